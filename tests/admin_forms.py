"""Build a staff admin change form's POST exactly as the browser would send it back."""

from __future__ import annotations

from typing import Any

from django.forms import BaseForm, MultiWidget


def _form_values(form: BaseForm, data: dict[str, Any]) -> None:
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        key = form.add_prefix(name)
        widget = form.fields[name].widget
        if isinstance(widget, MultiWidget) and not isinstance(value, list):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{key}_{index}"] = "" if part is None else str(part)
        elif isinstance(value, bool):
            if value:
                data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(item) for item in value]
        else:
            data[key] = str(value)


def admin_change_data(response: Any) -> dict[str, Any]:
    """The change page's main form and inline formsets, as they were rendered."""
    data: dict[str, Any] = {}
    _form_values(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _form_values(formset.management_form, data)
        for form in formset.forms:
            _form_values(form, data)
    return data

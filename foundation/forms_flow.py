"""The one shape every workspace form has: limit, validate, call a service, answer.

Views keep their own access check and choose the service; this keeps the flow identical
everywhere (a rate-limited POST, domain errors shown on the form, 400 on bad input).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from foundation.ratelimit import limit


def form_flow(
    request: HttpRequest,
    form: forms.BaseForm,
    *,
    save: Callable[[dict[str, Any]], Any],
    errors: tuple[type[Exception], ...],
    success: str,
    done: Callable[[Any], HttpResponse],
    template: str,
    context: dict[str, Any],
    scope: str = "org_write",
) -> HttpResponse:
    if request.method == "POST":
        limit(request, scope=scope, key=f"user:{request.user.pk}")
        if form.is_valid():
            try:
                result = save(form.cleaned_data)
            except errors as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, success)
                return done(result)
    return render(request, template, {"form": form, **context}, status=400 if form.errors else 200)

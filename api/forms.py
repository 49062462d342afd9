"""Forms of the API token pages: they validate only."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class TokenForm(forms.Form):
    SCOPES = [
        ("read", _("Read: petitions, and the supporters who consented to us (people, signatures)")),
        ("write", _("Write: sign people up from our own site (record_signature_helper)")),
    ]

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Where the token will be used, e.g. “CiviCRM sync” or “website form”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=SCOPES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Give each tool only what it needs."),
    )

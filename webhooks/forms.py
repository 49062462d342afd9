from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks.services import EVENT_CHOICES


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("Endpoint URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("An https:// address of your own tool on the public internet."),
    )
    description = forms.CharField(label=_("Description"), max_length=100, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    seal_personal_data = forms.BooleanField(
        label=_("Seal supporters' personal data to our public key"),
        required=False,
        help_text=_(
            "Names and addresses are then sealed to the public key saved for sealed supporter "
            "exports: only your private key opens them."
        ),
    )

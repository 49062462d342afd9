"""Forms validate input only; services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import Petition
from outreach.models import Contact, LetterCampaign
from outreach.templating import PLACEHOLDERS, personal_message_errors, template_errors


class LetterCampaignForm(forms.ModelForm):
    class Meta:
        model = LetterCampaign
        fields = [
            "petition",
            "subject_en",
            "body_en",
            "subject_ru",
            "body_ru",
            "targeting",
            "targets",
            "institutions",
            "topic",
            "max_personal_length",
            "hourly_cap",
            "starts_at",
            "ends_at",
        ]
        widgets = {
            "body_en": forms.Textarea(attrs={"rows": 10}),
            "body_ru": forms.Textarea(attrs={"rows": 10}),
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "targets": forms.CheckboxSelectMultiple(attrs={"class": "filterable"}),
        }

    institutions = forms.MultipleChoiceField(
        label=_("Institutions (for targeting by country)"),
        choices=Contact.Institution.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, campaign: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if campaign is not None:
            self.fields["petition"].queryset = campaign.petitions.all()  # type: ignore[attr-defined]
        self.fields["targets"].queryset = Contact.objects.exclude(  # type: ignore[attr-defined]
            status__in=[Contact.Status.BLOCKED, Contact.Status.UNSUBSCRIBED]
        )
        names = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        self.fields["body_en"].help_text = _("Placeholders you can use: %(names)s") % {
            "names": names
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field in ("subject_en", "body_en", "subject_ru", "body_ru"):
            for problem in template_errors(data.get(field) or ""):
                self.add_error(field, problem)
        if not (data.get("subject_en") and data.get("body_en")) and not (
            data.get("subject_ru") and data.get("body_ru")
        ):
            raise forms.ValidationError(_("Write the subject and letter in English or Russian."))
        targeting = data.get("targeting")
        if targeting == LetterCampaign.Targeting.FIXED and not data.get("targets"):
            self.add_error("targets", _("Choose the contacts who receive the letter."))
        if targeting == LetterCampaign.Targeting.TOPIC and not (data.get("topic") or "").strip():
            self.add_error("topic", _("Name the topic, e.g. banking."))
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The window must close after it opens."))
        return data


class SendLetterForm(forms.Form):
    personal_message = forms.CharField(
        label=_("Add your own words (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    reveal_email = forms.BooleanField(
        label=_("Let the recipients see my email address and reply to me directly"),
        required=False,
        initial=False,
    )

    # Which letter, in which version, the signer read: sending anything else is refused.
    letter = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, max_length: int = 600, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_length = max_length
        self.fields["personal_message"].help_text = _(
            "At most %(n)d characters, plain text, no links."
        ) % {"n": max_length}

    def clean_personal_message(self) -> str:
        text: str = (self.cleaned_data.get("personal_message") or "").strip()
        problems = personal_message_errors(text, self.max_length)
        if problems:
            raise forms.ValidationError("; ".join(problems))
        return text


class ReplyForm(forms.Form):
    contact = forms.ModelChoiceField(
        label=_("Who replied"), queryset=Contact.objects.all(), required=False
    )
    received_at = forms.DateTimeField(
        label=_("Received"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    summary = forms.CharField(
        label=_("Text or summary"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    url = forms.URLField(label=_("Link"), required=False, assume_scheme="https")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("summary") or "").strip() and not data.get("url"):
            raise forms.ValidationError(_("Give the reply's text or a link to it."))
        return data


class DeliveryForm(forms.Form):
    petition: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Petition"), queryset=Petition.objects.none()
    )
    targets = forms.ModelMultipleChoiceField(
        label=_("Recipients"),
        queryset=Contact.objects.filter(status=Contact.Status.ACTIVE),
        widget=forms.CheckboxSelectMultiple(attrs={"class": "filterable"}),
    )
    milestone = forms.IntegerField(
        label=_("Deliver when confirmed signatures reach"), required=False, min_value=1
    )
    scheduled_for = forms.DateTimeField(
        label=_("…or deliver on"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    include_names = forms.BooleanField(
        label=_("Attach the names of signers who chose to be shown"), required=False
    )

    def __init__(self, *args: Any, campaign: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["petition"].queryset = campaign.petitions.all()  # type: ignore[attr-defined]

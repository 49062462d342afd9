"""Forms validate input only; services do the writing."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from campaigns import pow
from campaigns.models import Campaign, IssueArea, JointActAnswer, OutcomeEvent, Petition, Signature
from campaigns.selectors import SignatureReview
from campaigns.services import latest_today
from foundation import uploads
from foundation.countries import CountryField
from foundation.mailbox import email_validate
from foundation.nojs import NoJsCostMixin
from members.models import Organization

# Names are plain text: letters of any script, spaces and the punctuation names really use.
_NAME = RegexValidator(
    "^[^\\W\\d_]+(?:[ '\u2019\\-.]+[^\\W\\d_]+)*\\.?$",
    _("Enter a name using letters, spaces, hyphens or apostrophes."),
)
_MARKUP = re.compile(r"[<>{}]|https?://", re.IGNORECASE)


def _no_markup(value: str) -> None:
    if _MARKUP.search(value or ""):
        raise forms.ValidationError(_("Plain text only: no HTML, links or code."))


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "issue_area",
            "title_en",
            "title_ru",
            "summary_en",
            "summary_ru",
            "body_en",
            "body_ru",
            "image",
            "image_alt",
        ]
        widgets = {
            "summary_en": forms.Textarea(attrs={"rows": 3}),
            "summary_ru": forms.Textarea(attrs={"rows": 3}),
            "body_en": forms.Textarea(attrs={"rows": 10}),
            "body_ru": forms.Textarea(attrs={"rows": 10}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["issue_area"].queryset = IssueArea.objects.all()  # type: ignore[attr-defined]
        self.fields["image"].help_text = _("JPEG or PNG, at most 2 MB.")

    def clean_image(self) -> Any:
        image = self.cleaned_data.get("image")
        if image and getattr(image, "size", 0) > 2 * 1024 * 1024:
            raise forms.ValidationError(_("The image is larger than 2 MB."))
        if isinstance(image, UploadedFile):  # a new upload, not the image kept from before
            # Checked by content and re-encoded: pixels only, under a random name.
            return uploads.clean_image(image)
        return image

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("title_en") or "").strip() and not (data.get("title_ru") or "").strip():
            raise forms.ValidationError(_("Give the campaign a title in English or Russian."))
        for code in ("en", "ru"):
            if (data.get(f"title_{code}") or "").strip() and not (
                data.get(f"summary_{code}") or ""
            ).strip():
                self.add_error(f"summary_{code}", _("Add a summary in the same language."))
        if data.get("image") and not (data.get("image_alt") or "").strip():
            self.add_error("image_alt", _("Describe the image for people who cannot see it."))
        return data


class PetitionForm(forms.ModelForm):
    class Meta:
        model = Petition
        fields = ["title_en", "title_ru", "text_en", "text_ru", "addressed_to", "goal", "deadline"]
        widgets = {
            "text_en": forms.Textarea(attrs={"rows": 8}),
            "text_ru": forms.Textarea(attrs={"rows": 8}),
            "deadline": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }

    def clean_goal(self) -> int:
        goal: int = self.cleaned_data["goal"]
        if goal < 1 or goal > 10_000_000:
            raise forms.ValidationError(_("Set a goal between 1 and 10,000,000 signatures."))
        return goal

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for code in ("en", "ru"):
            if (data.get(f"title_{code}") or "").strip() and not (
                data.get(f"text_{code}") or ""
            ).strip():
                self.add_error(f"text_{code}", _("Add the petition text in the same language."))
        if not (data.get("title_en") or "").strip() and not (data.get("title_ru") or "").strip():
            raise forms.ValidationError(_("Give the petition a title in English or Russian."))
        return data


class CloseCampaignForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=Campaign.Result.choices)
    result_summary = forms.CharField(
        label=_("Public summary of the result"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class JointActAnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Your organization's answer"),
        choices=JointActAnswer.Answer.choices,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason for an objection (public)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("answer") == JointActAnswer.Answer.OBJECT
            and not (data.get("reason") or "").strip()
        ):
            self.add_error("reason", _("Give the reason for the objection."))
        return data


class InviteCosponsorForm(forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Member organization"), queryset=Organization.objects.none(), to_field_name="slug"
    )

    def __init__(self, *args: Any, candidates: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if candidates is not None:
            self.fields["organization"].queryset = candidates  # type: ignore[attr-defined]


class AntiBotMixin:
    """What every form anyone may send without an account checks (the sign form, case reports,
    agenda proposals and supports): the ``website`` honeypot and the ALTCHA proof of work in
    ``altcha`` (campaigns/pow.py); the form declares both fields. Without a solution the view
    charges the no-JavaScript cost instead (foundation/nojs.py)."""

    cleaned_data: dict[str, Any]
    data: Any
    # Set by clean_altcha: True once a valid solution was spent.
    pow_verified = False

    def clean_altcha(self) -> str:
        payload: str = self.cleaned_data.get("altcha", "")
        if payload:
            # A payload that fails is an error, not a quiet fallback to the unverified path: the
            # widget only ever sends solved ones, so this is tampering, a replay or an expired
            # page, and a fresh page (with a fresh challenge) is the honest way out.
            if not pow.solution_verify(payload):
                raise forms.ValidationError(
                    _("The anti-bot check failed, please try again."), code="pow_failed"
                )
            self.pow_verified = True
        return payload

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip()
        # Quoted local parts, address literals and throwaway domains (subdomains included):
        # one validator for the page, the widget and the API, which all validate with this form.
        email_validate(email)
        return email

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class SignatureForm(AntiBotMixin, NoJsCostMixin, forms.Form):
    """The sign form. Consent boxes are added per co-sponsor, all unticked.

    A post carries either a solved proof of work (``altcha``, JavaScript) or pays the cost of a
    form sent without JavaScript (``nojs``: an aged single-use token and a global budget,
    foundation/nojs.py), checked by the view once the form is valid.
    """

    nojs_purpose = "sign"

    name = forms.CharField(label=_("Your name"), max_length=100, validators=[_NAME])
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("Only to confirm your signature. Never shown, never given to anyone."),
    )
    # Sorted in the reader's language and rendered once per language (foundation/countries.py).
    country = CountryField(label=_("Country where you live"))
    city = forms.CharField(label=_("City (optional)"), max_length=100, required=False)
    display = forms.ChoiceField(
        label=_("How to show your signature"),
        choices=Signature.Display.choices,
        initial=Signature.Display.ANONYMOUS,
        widget=forms.RadioSelect,
    )
    # The co-sponsors' joint updates about this campaign; not a consent to any one organization.
    updates = forms.BooleanField(
        required=False,
        initial=False,
        label=_("Keep me informed about this campaign"),
        help_text=_(
            "Rare updates agreed by all co-sponsors: replies, meetings, the result. "
            "Every one has a link to stop them."
        ),
    )
    # Honeypot: hidden from people by CSS and aria-hidden; bots fill every field they see.
    website = forms.CharField(required=False, label=_("Leave this field empty"))
    # The proof of work solved by the ALTCHA widget (campaigns/pow.py), which adds its own hidden
    # input. Optional: without JavaScript there is none, and the view limits such posts harder.
    altcha = forms.CharField(required=False, label=_("Anti-bot check"), widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        cosponsors: list[Organization] | None = None,
        high_security: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(*args, **kw)
        self.high_security = high_security
        if high_security:
            # A campaign in high security (campaigns/services/security.py) asks for no city and
            # shows nobody's name: the fields are not even offered.
            del self.fields["city"]
            del self.fields["display"]
        self.cosponsors = list(cosponsors or [])
        for organization in self.cosponsors:
            self.fields[f"consent_{organization.slug}"] = forms.BooleanField(
                required=False,
                initial=False,
                label=_("%(name)s may contact me about its work") % {"name": organization.name},
            )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        _no_markup(name)
        return name

    def clean_city(self) -> str:
        city: str = self.cleaned_data.get("city", "").strip()
        _no_markup(city)
        return city

    @property
    def cache_key(self) -> str:
        """What the unbound form's HTML depends on besides the language: the consent boxes."""
        return ("hs|" if self.high_security else "") + "|".join(
            f"{o.slug}:{o.name}" for o in self.cosponsors
        )

    def consents(self) -> list[Organization]:
        return [o for o in self.cosponsors if self.cleaned_data.get(f"consent_{o.slug}")]

    def signature_data(self, *, source_slug: str) -> dict[str, Any]:
        """The validated form as `services.signature_create` takes it, for the page and the API.

        The source is a co-sponsor's slug from the link or widget; any other slug is no source.
        """
        data = self.cleaned_data
        return {
            "name": data["name"],
            "email": data["email"],
            "country": data["country"],
            "city": data.get("city", ""),
            "display": data.get("display", Signature.Display.ANONYMOUS),
            "updates": bool(data.get("updates")),
            "consents": self.consents(),
            "cosponsors": self.cosponsors,
            "source": next((o for o in self.cosponsors if o.slug == source_slug), None),
        }

    def consent_fields(self) -> list[forms.BoundField]:
        return [self[f"consent_{o.slug}"] for o in self.cosponsors]


class OutcomeForm(forms.ModelForm):
    class Meta:
        model = OutcomeEvent
        fields = [
            "kind",
            "date",
            "description_en",
            "description_ru",
            "evidence_url",
            "evidence_file",
        ]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Milestones and results are recorded by the platform and by closing the campaign.
        self.fields["kind"].choices = [  # type: ignore[attr-defined]
            (value, label)
            for value, label in OutcomeEvent.Kind.choices
            if value not in {OutcomeEvent.Kind.MILESTONE, OutcomeEvent.Kind.RESULT}
        ]

    def clean_evidence_url(self) -> str:
        url: str = self.cleaned_data.get("evidence_url") or ""
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError(_("The evidence link must start with https:// or http://."))
        return url

    def clean_evidence_file(self) -> Any:
        upload = self.cleaned_data.get("evidence_file")
        if upload and getattr(upload, "size", 0) > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 5 MB."))
        if isinstance(upload, UploadedFile):
            # By content, not by name: a PDF header, or a picture that decodes (re-encoded).
            return uploads.clean_evidence(upload)
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, kind = data.get("date"), data.get("kind")
        if day and day > latest_today() and kind != OutcomeEvent.Kind.MEETING:
            self.add_error("date", _("Only a meeting can be dated in the future."))
        if (
            not (data.get("description_en") or "").strip()
            and not (data.get("description_ru") or "").strip()
        ):
            raise forms.ValidationError(_("Describe what happened, in English or Russian."))
        return data


class SignatureReviewForm(forms.Form):
    """The confirmation page: keep or take back what was given when signing, then confirm.

    Only what the signature already has is offered (see selectors.DISPLAY_EXPOSURE for why the
    page can never add): anything else posted is tampering, refused with a clear message.
    """

    # Marks a post from this form: a bare POST (an older page) confirms what was given.
    review = forms.CharField(widget=forms.HiddenInput, initial="1")
    display = forms.ChoiceField(
        label=_("How your name is shown"),
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": _("Choose how your name is shown from the options on the page.")
        },
    )
    consents = forms.MultipleChoiceField(
        label=_("Who may contact you"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Untick an organization to withdraw its permission."),
        error_messages={
            "invalid_choice": _(
                "You can only keep or withdraw the permissions you gave when signing."
            )
        },
    )

    updates = forms.BooleanField(
        label=_("Keep me informed about this campaign"),
        required=False,
        help_text=_("Untick to get no updates."),
    )

    def __init__(self, *args: Any, review: SignatureReview, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offers_updates = review.signature.wants_updates
        if not self.offers_updates:
            # Not chosen when signing: nothing to keep, and this page never adds.
            del self.fields["updates"]
        else:
            self.fields["updates"].initial = True
        display = self.fields["display"]
        display.choices = review.display_choices()  # type: ignore[attr-defined]
        display.initial = review.signature.display
        consents = self.fields["consents"]
        consents.choices = [  # type: ignore[attr-defined]
            (o.slug, _("%(name)s may contact me about its work") % {"name": o.name})
            for o in review.consented
        ]
        consents.initial = [o.slug for o in review.consented]

    def changes(self) -> dict[str, Any]:
        """The validated form as `services.signature_confirm` takes it."""
        changes = {
            "display": self.cleaned_data["display"],
            "consents": self.cleaned_data["consents"],
        }
        if self.offers_updates:
            changes["updates"] = self.cleaned_data["updates"]
        return changes

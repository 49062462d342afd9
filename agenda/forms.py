"""Forms validate input only; services do the writing."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agenda.models import AnswerMotion
from campaigns.forms import AntiBotMixin
from campaigns.models import Campaign, IssueArea
from foundation.countries import country_choices
from foundation.nojs import NoJsCostMixin

_MARKUP = re.compile(r"[<>{}]|https?://|www\.", re.IGNORECASE)
MAX_COUNTRIES = 10


def _plain(value: str) -> str:
    value = value.strip()
    if _MARKUP.search(value):
        raise forms.ValidationError(_("Plain text only: no HTML, links or code."))
    return value


class _AntiBotForm(AntiBotMixin, NoJsCostMixin, forms.Form):
    """The sign form's defences: a honeypot, the optional ALTCHA proof of work, and without it
    the aged single-use form token and shared budget (foundation/nojs.py), so the form works
    without JavaScript (Tor Browser at "Safest") at a price a flood pays and a person does not."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("Only to confirm. Never shown, never given to anyone."),
    )
    wants_answer = forms.BooleanField(
        required=False,
        initial=False,
        label=_("Tell me by email when the coalition answers"),
        help_text=_("One message, with a link to stop it and a link to erase your data."),
    )
    website = forms.CharField(required=False, label=_("Leave this field empty"))
    altcha = forms.CharField(required=False, label=_("Anti-bot check"), widget=forms.HiddenInput)


class ProposalForm(_AntiBotForm):
    title = forms.CharField(
        label=_("The problem, in one line"),
        max_length=150,
        help_text=_("Describe the problem, not a person: no names, addresses or phone numbers."),
    )
    description = forms.CharField(
        label=_("What happens and whom it affects"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Public once a moderator has read it. Do not name or describe anyone."),
    )
    issue_area = forms.ModelChoiceField(
        label=_("Issue area"), queryset=IssueArea.objects.all(), to_field_name="slug"
    )
    countries = forms.MultipleChoiceField(
        label=_("Countries concerned"),
        choices=partial(country_choices, blank=False),
        # The shared checkbox list (templates/_form.html bounds it, static/js/checklist.js adds
        # a filter box when JavaScript runs), as on the organizations' application form.
        widget=forms.CheckboxSelectMultiple(attrs={"class": "filterable"}),
        help_text=_("Tick every country concerned."),
    )
    nojs_purpose = "agenda_propose"
    field_order = ["title", "description", "issue_area", "countries", "email", "wants_answer"]

    def clean_title(self) -> str:
        return _plain(self.cleaned_data["title"])

    def clean_description(self) -> str:
        value: str = self.cleaned_data["description"].strip()
        if re.search(r"[<>{}]", value):
            raise forms.ValidationError(_("Plain text only: no HTML, links or code."))
        return value

    def clean_countries(self) -> list[str]:
        countries: list[str] = self.cleaned_data["countries"]
        if len(countries) > MAX_COUNTRIES:
            raise forms.ValidationError(_("Choose at most %(n)d countries.") % {"n": MAX_COUNTRIES})
        return countries


class SupportForm(_AntiBotForm):
    nojs_purpose = "agenda_support"


class ModerationForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Decision"),
        choices=[("publish", _("Publish")), ("hide", _("Hide"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason (public, required to hide)"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "hide" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason; it is published."))
        return data


class HideConfirmForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (public)"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class StaffModerationForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            ("hide", _("Hide")),
            ("confirm", _("Confirm an organization's hiding")),
            ("restore", _("Restore")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason (public)"), max_length=300)


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label=_("Your organization's answer"),
        choices=[
            ("adopt", _("We adopt it and start a campaign")),
            ("adopt_vote", _("Put an adoption by us to a coalition vote")),
            ("decline", _("Move that the coalition declines it")),
            ("merge", _("Move that it is merged with an existing campaign")),
        ],
        widget=forms.RadioSelect,
    )
    vote = forms.BooleanField(
        required=False,
        label=_("Put the decline or merge straight to a coalition vote"),
        help_text=_(
            "Otherwise it becomes the coalition's answer when no other member objects in time."
        ),
    )
    reason = forms.CharField(
        label=_("Published reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign to merge it with"),
        queryset=Campaign.objects.none(),
        to_field_name="slug",
        required=False,
    )
    campaign_title = forms.CharField(label=_("Campaign title"), max_length=200, required=False)
    campaign_summary = forms.CharField(
        label=_("Campaign summary"),
        max_length=600,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, campaigns: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if campaigns is not None:
            self.fields["campaign"].queryset = campaigns  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        answer = data.get("answer")
        if answer in {"adopt", "adopt_vote"}:
            for name in ("campaign_title", "campaign_summary"):
                if not (data.get(name) or "").strip():
                    self.add_error(name, _("Needed to start the campaign."))
        if answer in {"adopt_vote", "decline", "merge"} and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason; it is published."))
        if answer == "merge" and not data.get("campaign"):
            self.add_error("campaign", _("Choose a public campaign to merge it with."))
        return data

    def motion_kind(self) -> str:
        answer = self.cleaned_data["answer"]
        return AnswerMotion.Kind.ADOPT if answer == "adopt_vote" else str(answer)


class ObjectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Why your organization objects (public)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

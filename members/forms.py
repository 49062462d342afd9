"""Forms validate input only; services do the writing."""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from foundation.countries import CountryField, country_choices
from members.models import WORKING_LANGUAGES, Decision, Membership, Organization, Vote


class OrganizationApplicationForm(forms.Form):
    name = forms.CharField(label=_("Name of the organization"), max_length=120)
    country_of_registration = CountryField(label=_("Country of registration"))
    countries_of_operation = forms.MultipleChoiceField(
        label=_("Countries where you work"),
        choices=partial(country_choices, blank=False),
        # A checkbox list, not a Ctrl-click multi-select: templates/_form.html bounds it and
        # static/js/checklist.js adds a filter box.
        widget=forms.CheckboxSelectMultiple(attrs={"class": "filterable"}),
        help_text=_("Tick every country where you work."),
    )
    website = forms.URLField(
        label=_("Website"), max_length=200, assume_scheme="https", help_text="https://…"
    )
    mission = forms.CharField(
        label=_("Mission"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What your organization does for emigres, in a few sentences."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Working languages"),
        choices=WORKING_LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
    )
    legal_status = forms.ChoiceField(
        label=_("Legal status"), choices=[("", "—"), *Organization.LegalStatus.choices]
    )
    funding_disclosure = forms.CharField(
        label=_("Funding disclosure"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Who funds your work. Member organizations read this before they vote."),
    )
    contact_email = forms.EmailField(
        label=_("Contact email"),
        max_length=254,
        help_text=_("Coalition decisions and notices are sent here."),
    )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if len(name) < 2:
            raise forms.ValidationError(_("Enter the organization's full name."))
        if Organization.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(_("An organization with this name has already applied."))
        return name

    def clean_website(self) -> str:
        website: str = self.cleaned_data["website"]
        if not website.lower().startswith(("https://", "http://")):
            raise forms.ValidationError(_("Enter a web address starting with https://."))
        return website


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        label=_("Your organization's vote"), choices=Vote.Choice.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you block. Published in the ledger."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("choice") == Vote.Choice.BLOCK and not (data.get("reason") or "").strip():
            self.add_error("reason", _("A block needs a reason that the coalition can read."))
        return data


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"), choices=Membership.Role.choices, initial=Membership.Role.EDITOR
    )


class ExportKeyForm(forms.Form):
    public_key = forms.CharField(
        label=_("Public key for supporter exports"),
        max_length=64,
        required=False,
        help_text=_(
            "Exports are then sealed so only your private key opens them; not even platform "
            "staff can read them. Make a key pair with bin/decrypt-export --generate-key. "
            "Leave empty to download plain CSV."
        ),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)


class DecisionProposalForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What do you propose?"),
        choices=[
            (Decision.Kind.AMEND_CHARTER, Decision.Kind.AMEND_CHARTER.label),
            (Decision.Kind.SUSPEND_MEMBER, Decision.Kind.SUSPEND_MEMBER.label),
        ],
    )
    organization = forms.ModelChoiceField(
        label=_("Organization to suspend"),
        queryset=Organization.objects.filter(status=Organization.Status.MEMBER),
        required=False,
        to_field_name="slug",
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Proposal and reasons"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == Decision.Kind.SUSPEND_MEMBER and not data.get("organization"):
            self.add_error("organization", _("Choose a member organization to suspend."))
        return data

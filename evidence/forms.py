"""Forms validate input only; evidence/services.py does the writing."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.utils import dates, timezone
from django.utils.translation import gettext_lazy as _

from campaigns.forms import AntiBotMixin
from campaigns.models import IssueArea
from evidence.models import ModerationLog, Term
from evidence.vocabularies import label_for, lists_for
from foundation.countries import CountryField
from foundation.nojs import NoJsCostMixin
from members.models import Organization

OTHER = "other"
_MARKUP = re.compile(r"[<>{}]|https?://", re.IGNORECASE)
MONTHS = list(dates.MONTHS.items())  # Django's own month names, translated already


def _plain(value: str) -> str:
    if _MARKUP.search(value or ""):
        raise forms.ValidationError(_("Plain text only: no HTML, links or code."))
    return value.strip()


class ReportForm(AntiBotMixin, NoJsCostMixin, forms.Form):
    """The case report of one issue area: its lists, each with "other (describe)".

    Bots pay as on the sign form: the proof of work with JavaScript, the aged single-use form
    token and the shared budget without it (foundation/nojs.py); ``website`` is the honeypot the
    template renders by hand."""

    nojs_purpose = "case_report"

    country = CountryField(label=_("Country where it happened"))
    month = forms.TypedChoiceField(label=_("Month"), choices=MONTHS, coerce=int)
    year = forms.IntegerField(label=_("Year"))
    account = forms.CharField(
        label=_("What happened, in your own words (optional)"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Read only by the moderators of member organizations. Leave out names, addresses "
            "and account numbers."
        ),
    )
    publish_account = forms.BooleanField(
        required=False,
        label=_("A moderator may publish a version of my account with everything that could "
                "identify me removed"),
    )  # fmt: skip
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("Only to confirm your report. Never shown, never given to anyone, unless you "
                    "tick an organization below."),
    )  # fmt: skip
    altcha = forms.CharField(required=False, label=_("Anti-bot check"), widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, issue_area: IssueArea, desks: list[Organization], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.issue_area = issue_area
        self.desks = desks
        self.lists = lists_for(issue_area.slug)
        terms: dict[str, list[Term]] = {}
        for term in Term.objects.filter(
            issue_area=issue_area, retired_at__isnull=True, approved_at__isnull=False
        ).order_by("name_" + self._language()):
            terms.setdefault(term.vocabulary, []).append(term)
        self.terms = terms
        fields: dict[str, forms.Field] = {}
        for vocabulary in self.lists:
            options = [(str(t.pk), t.name) for t in terms.get(vocabulary, [])]
            label = label_for(issue_area.slug, vocabulary)
            if vocabulary == Term.Vocabulary.DOCUMENT:
                fields[vocabulary] = forms.MultipleChoiceField(
                    label=label, required=False, choices=options,
                    widget=forms.CheckboxSelectMultiple,
                )  # fmt: skip
            else:
                fields[vocabulary] = forms.ChoiceField(
                    label=label,
                    required=vocabulary == Term.Vocabulary.EVENT,
                    choices=[("", "—"), *options, (OTHER, _("Other (describe below)"))],
                )
            fields[f"{vocabulary}_other"] = forms.CharField(
                label=_("%(list)s: other") % {"list": label}, required=False, max_length=200
            )
        for name, field in fields.items():
            self.fields[name] = field
        # The fields in reading order: what happened first, then the reporter's words and address.
        order = ["country", *fields, "month", "year", "account", "publish_account", "email"]
        self.order_fields(order)
        for organization in desks:
            self.fields[f"consent_{organization.slug}"] = forms.BooleanField(
                required=False,
                initial=False,
                label=_("%(name)s may contact me about my case") % {"name": organization.name},
            )

    @staticmethod
    def _language() -> str:
        from django.utils.translation import get_language

        return "ru" if (get_language() or "en").startswith("ru") else "en"

    def clean_account(self) -> str:
        return _plain(self.cleaned_data.get("account", ""))

    def clean_year(self) -> int:
        year: int = self.cleaned_data["year"]
        today = timezone.localdate()
        if year > today.year:
            raise forms.ValidationError(_("The year cannot be in the future."))
        if year < settings.EVIDENCE_EARLIEST_YEAR:
            raise forms.ValidationError(
                _("Only cases since %(year)d are collected.")
                % {"year": settings.EVIDENCE_EARLIEST_YEAR}
            )
        return year

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        year, month = data.get("year"), data.get("month")
        if year and month:
            today = timezone.localdate()
            if (year, month) > (today.year, today.month):
                self.add_error("month", _("The month cannot be in the future."))
            else:
                data["date"] = date(year, month, 1)
        for vocabulary in self.lists:
            other = self.cleaned_data.get(f"{vocabulary}_other", "")
            try:
                other = _plain(other)
            except forms.ValidationError as exc:
                self.add_error(f"{vocabulary}_other", exc)
                continue
            data[f"{vocabulary}_other"] = other
            if vocabulary == Term.Vocabulary.DOCUMENT:
                continue
            if data.get(vocabulary) == OTHER and not other:
                self.add_error(f"{vocabulary}_other", _("Describe it, or choose from the list."))
            if other and data.get(vocabulary) not in {OTHER, None}:
                self.add_error(f"{vocabulary}_other", _("Choose “Other” above to describe it."))
        if data.get("publish_account") and not data.get("account"):
            self.add_error("publish_account", _("Write your account first, or untick this."))
        return data

    def report_data(self) -> dict[str, Any]:
        """The validated form as ``services.report_create`` takes it."""
        data = self.cleaned_data
        by_pk = {str(t.pk): t for terms in self.terms.values() for t in terms}
        choices: dict[str, Term | None] = {}
        others: dict[str, str] = {}
        documents: list[Term] = []
        for vocabulary in self.lists:
            value = data.get(vocabulary)
            if data.get(f"{vocabulary}_other"):
                others[vocabulary] = data[f"{vocabulary}_other"]
            if vocabulary == Term.Vocabulary.DOCUMENT:
                documents = [by_pk[v] for v in value or [] if v in by_pk]
            else:
                choices[vocabulary] = by_pk.get(value or "")
        return {
            "issue_area": self.issue_area,
            "email": data["email"],
            "country": data["country"],
            "month": data["date"],
            "choices": choices,
            "others": others,
            "documents": documents,
            "account": data.get("account", ""),
            "publish_account": bool(data.get("publish_account")),
            "consents": [o for o in self.desks if data.get(f"consent_{o.slug}")],
        }

    def list_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.split("_")[0] in self.lists]

    def consent_fields(self) -> list[forms.BoundField]:
        return [self[f"consent_{o.slug}"] for o in self.desks]


class ModerationForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (ModerationLog.Action.VERIFY, _("Verify: the report is credible")),
            (ModerationLog.Action.REJECT, _("Reject: not credible, spam or not a case")),
            (ModerationLog.Action.REDACT, _("Only write or correct the public version")),
            (
                ModerationLog.Action.APPROVE,
                _("Approve the public version another organization wrote"),
            ),
        ],
    )
    reason = forms.CharField(
        label=_("Why (for the moderation log, seen by every member organization's moderators)"),
        max_length=500,
    )
    redacted = forms.CharField(
        label=_("Public version of the account (optional)"),
        required=False,
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Only if the reporter allowed it. Remove names, exact dates, places, banks' "
                    "branch names and anything else that could identify them."),
    )  # fmt: skip

    def clean_redacted(self) -> str:
        return _plain(self.cleaned_data.get("redacted", ""))


class ContactForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you need to write to the reporter (logged)"), max_length=500
    )


class ConsentWithdrawForm(forms.Form):
    """The reporter withdraws one organization's permission to contact them."""

    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(), to_field_name="slug", widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
        field.queryset = organizations


class AccountForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you need to read the reporter's own words (logged)"), max_length=500
    )


class TermForm(forms.Form):
    issue_area = forms.ModelChoiceField(
        label=_("Issue area"), queryset=IssueArea.objects.all(), to_field_name="slug"
    )
    vocabulary = forms.ChoiceField(label=_("List"), choices=Term.Vocabulary.choices)
    name_en = forms.CharField(label=_("Name (English)"), max_length=120)
    name_ru = forms.CharField(label=_("Name (Russian)"), max_length=120)
    reason = forms.CharField(label=_("Why (for the moderation log)"), max_length=500)

    def clean_name_en(self) -> str:
        return _plain(self.cleaned_data["name_en"])

    def clean_name_ru(self) -> str:
        return _plain(self.cleaned_data["name_ru"])


class TermRetireForm(forms.Form):
    term = forms.IntegerField(widget=forms.HiddenInput)
    restore = forms.BooleanField(required=False, widget=forms.HiddenInput)
    approve = forms.BooleanField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why (for the moderation log)"), max_length=500)


class DeskForm(forms.Form):
    areas = forms.ModelMultipleChoiceField(
        label=_("Issue areas in which your organization takes up cases"),
        queryset=IssueArea.objects.all(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class SummaryForm(forms.Form):
    target = forms.ChoiceField(label=_("Attach to"))
    issue_area = forms.ModelChoiceField(
        label=_("Evidence of the issue area"),
        queryset=IssueArea.objects.all(),
        to_field_name="slug",
    )

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets  # type: ignore[attr-defined]

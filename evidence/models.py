"""Case reports: what happened to emigres, told by them, counted as evidence.

A report counts only once its reporter confirmed it from the emailed link; nothing a reporter
wrote is public until a moderator of a member organization reviewed it, and then only as counts
in cells of at least ``EVIDENCE_MIN_CELL`` reports (evidence/aggregates.py) and, if the reporter
allowed it, as the moderator's redacted version of their account.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from campaigns.models import Campaign, IssueArea, OutcomeEvent, _localized
from foundation.fields import EncryptedTextField
from members.models import Organization
from outreach.models import LetterCampaign, PetitionDelivery


class Term(models.Model):
    """One entry of a controlled vocabulary of an issue area (a bank, a kind of event...).

    Entries are retired, never deleted once a report uses them (PROTECT): old reports keep
    their meaning and the published tables their rows.
    """

    class Vocabulary(models.TextChoices):
        INSTITUTION = "institution", _("Bank or authority")
        PLACE = "place", _("Border crossing or place")
        EVENT = "event", _("What happened")
        REASON = "reason", _("Reason or legal basis given")
        STATUS = "status", _("Residence status")
        DOCUMENT = "document", _("Documents asked for")
        OUTCOME = "outcome", _("Outcome so far")

    issue_area = models.ForeignKey(
        IssueArea, verbose_name=_("issue area"), on_delete=models.PROTECT, related_name="+"
    )
    vocabulary = models.CharField(_("list"), max_length=12, choices=Vocabulary.choices)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_ru = models.CharField(_("name (Russian)"), max_length=120)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    added_by = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A moderator's new entry waits (None) until a moderator of a second member organization (or
    # staff in the admin) approves it: until then it is not on the public form. Entries staff
    # add in the admin or the seeded lists are approved as they are made.
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True, default=timezone.now)

    class Meta:
        verbose_name = _("list entry")
        verbose_name_plural = _("list entries")
        ordering = ["issue_area", "vocabulary", "name_en"]
        constraints = [
            models.UniqueConstraint(
                fields=["issue_area", "vocabulary", "name_en"], name="one_term_per_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return _localized(self, "name")

    @property
    def is_active(self) -> bool:
        return self.retired_at is None and self.approved_at is not None


class CaseDesk(models.Model):
    """A member organization handles cases of this issue area: reporters may ask it to write."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    issue_area = models.ForeignKey(IssueArea, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "issue_area"], name="one_desk_per_area")
        ]


class CaseReport(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the reporter's confirmation")
        CONFIRMED = "confirmed", _("Confirmed, waiting for review")
        VERIFIED = "verified", _("Verified by a moderator")
        REJECTED = "rejected", _("Rejected by a moderator")

    issue_area = models.ForeignKey(IssueArea, on_delete=models.PROTECT, related_name="+")
    country = CountryField()  # where it happened
    month = models.DateField()  # the first day of the month it happened
    institution = models.ForeignKey(
        Term, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    place = models.ForeignKey(
        Term, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        Term, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.ForeignKey(
        Term, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    residence_status = models.ForeignKey(
        Term, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.ForeignKey(
        Term, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    documents = models.ManyToManyField(Term, blank=True, related_name="+")
    # The reporter's words: "other" answers ({list: text}, JSON) and their account. Encrypted,
    # shown to moderators only, never published as written.
    other_answers = EncryptedTextField(blank=True)
    account = EncryptedTextField(blank=True)
    publish_account = models.BooleanField(default=False)  # the reporter allowed a redacted version
    # Written by a moderator from ``account`` with everything identifying removed; public only
    # when ``publish_account`` and the report is verified.
    account_redacted = models.TextField(max_length=3000, blank=True)
    email = EncryptedTextField(blank=True)  # blanked by retention (evidence/services.py)
    email_digest = models.CharField(max_length=64, db_index=True)
    language = models.CharField(max_length=8, default="en")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    moderated_at = models.DateTimeField(null=True, blank=True)  # the last moderation act
    # The figures are taken "as of" a cut-off (evidence/aggregates.py): a report counts as
    # verified from ``verified_at`` (set once, never moved by a later act such as writing its
    # public version) and stops counting from ``rejected_at``.
    verified_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    # The public version is written by one organization and approved by a moderator of a second,
    # different one; it is released with a batch of others (services.accounts_release).
    account_redacted_by = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    account_approved_at = models.DateTimeField(null=True, blank=True)
    account_released_at = models.DateTimeField(null=True, blank=True)
    last_mailed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("case report")
        verbose_name_plural = _("case reports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["issue_area", "status"], name="report_area_status")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="pending") | models.Q(confirmed_at__isnull=True),
                name="pending_report_is_unconfirmed",
            ),
        ]

    def __str__(self) -> str:
        return f"report #{self.pk}"

    @property
    def counts(self) -> bool:
        return self.status in {self.Status.CONFIRMED, self.Status.VERIFIED}

    @property
    def public_account(self) -> str:
        if (
            self.status == self.Status.VERIFIED
            and self.publish_account
            and self.account_approved_at is not None
            and self.account_released_at is not None
        ):
            return self.account_redacted
        return ""


class ReportConsent(models.Model):
    """The reporter allowed this one organization to contact them about the case."""

    report = models.ForeignKey(CaseReport, on_delete=models.CASCADE, related_name="consents")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "organization"], name="one_report_consent_per_organization"
            )
        ]


class ModerationLog(models.Model):
    """Every act of a moderator (and every look at a reporter's contact or own account): who,
    what, why.

    Shown to the moderators of every member organization, so that each watches the others."""

    class Action(models.TextChoices):
        VERIFY = "verify", _("Verified")
        REJECT = "reject", _("Rejected")
        REDACT = "redact", _("Wrote the public version")
        APPROVE = "approve", _("Approved another organization's public version")
        CONTACT = "contact", _("Looked up the reporter's contact")
        ACCOUNT = "account", _("Read the reporter's own account")
        TERM_ADD = "term_add", _("Added a list entry")
        TERM_RETIRE = "term_retire", _("Retired a list entry")
        TERM_RESTORE = "term_restore", _("Restored a list entry")
        TERM_APPROVE = "term_approve", _("Approved another organization's list entry")
        DESKS = "desks", _("Changed the issue areas it takes up cases in")

    report = models.ForeignKey(
        CaseReport, on_delete=models.SET_NULL, null=True, blank=True, related_name="log"
    )
    report_number = models.PositiveBigIntegerField(null=True, blank=True)  # kept after erasure
    term = models.ForeignKey(
        Term, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(max_length=500)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]


class EvidenceSummary(models.Model):
    """An issue area's public tables attached by a co-sponsor to a letter campaign or a petition
    delivery; frozen (``tables`` stored) when the letters or the delivery go out."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    issue_area = models.ForeignKey(IssueArea, on_delete=models.PROTECT, related_name="+")
    letter_campaign = models.ForeignKey(
        LetterCampaign, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    delivery = models.ForeignKey(
        PetitionDelivery, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    attached_by = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    attached_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    attached_at = models.DateTimeField(default=timezone.now)
    frozen_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateTimeField(null=True, blank=True)
    tables = models.JSONField(null=True, blank=True)
    outcome = models.ForeignKey(
        OutcomeEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-attached_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(letter_campaign__isnull=True, delivery__isnull=False)
                | models.Q(letter_campaign__isnull=False, delivery__isnull=True),
                name="summary_has_one_target",
            ),
            models.UniqueConstraint(
                fields=["letter_campaign", "issue_area"], name="one_summary_per_letters_area"
            ),
            models.UniqueConstraint(
                fields=["delivery", "issue_area"], name="one_summary_per_delivery_area"
            ),
        ]

    def get_absolute_url(self) -> str:
        return reverse("evidence:summary", args=[self.pk])

"""The emigre agenda: problems emigres ask the coalition to take up, and the coalition's answer.

A proposal and every support of it are double opt-in like signatures: nothing counts and nothing
is public before the emailed link is followed. Contact addresses are encrypted at rest; every
lookup and the one-per-mailbox rule use the keyed digest of the normalized mailbox.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from campaigns.models import Campaign, IssueArea
from foundation.fields import EncryptedTextField
from members.models import Decision, Organization


class Proposal(models.Model):
    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("Waiting for the proposer's confirmation")
        IN_REVIEW = "in_review", _("Waiting for a moderator")
        OPEN = "open", _("Gathering support")
        AWAITING = "awaiting", _("Awaiting the coalition's answer")
        ADOPTED = "adopted", _("Adopted")
        DECLINED = "declined", _("Declined")
        MERGED = "merged", _("Merged with a campaign")
        HIDDEN = "hidden", _("Hidden by moderation")

    PUBLIC = (Status.OPEN, Status.AWAITING, Status.ADOPTED, Status.DECLINED, Status.MERGED)
    ANSWERED = (Status.ADOPTED, Status.DECLINED, Status.MERGED)

    title = models.CharField(_("title"), max_length=150)
    description = models.TextField(_("description"), max_length=3000)
    issue_area = models.ForeignKey(
        IssueArea, verbose_name=_("issue area"), on_delete=models.PROTECT, related_name="+"
    )
    countries = CountryField(_("countries concerned"), multiple=True)
    language = models.CharField(max_length=8, default="en")
    # The proposer's address, encrypted; the digest keys erasure and the per-mailbox cap.
    email = EncryptedTextField()
    email_digest = models.CharField(max_length=64, db_index=True)
    wants_answer = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNCONFIRMED)
    # What a hidden proposal was before, so that staff can restore it exactly.
    status_before_hide = models.CharField(max_length=12, blank=True)
    # When it was hidden (its due dates stand still meanwhile), and whether a second party (staff,
    # or a moderator of another member organization) confirmed a hiding by one organization.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hide_confirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Confirmed supports, the proposer's own included; only ever changed with the row locked.
    support_count = models.PositiveIntegerField(default=0)
    # Put before the member organizations (threshold reached) and when they must answer by.
    submitted_at = models.DateTimeField(null=True, blank=True)
    answer_due = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # Time an adoption spent hidden: its lapse clock (answered_at + AGENDA_ANSWER_WITHIN) stands
    # still meanwhile, as the answer clock does (agenda/services.py, _unhide).
    adoption_paused = models.DurationField(default=timedelta(0))
    answer_reason = models.TextField(_("published reason"), max_length=2000, blank=True)
    answered_by = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answer_decision = models.ForeignKey(
        Decision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The answer's notices to supporters: sent in batches, in order of support id.
    notice_cursor = models.PositiveBigIntegerField(default=0)
    notices_pending = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("emigre proposal")
        verbose_name_plural = _("emigre proposals")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="proposal_status_age"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("agenda:proposal", kwargs={"pk": self.pk})

    @property
    def is_public(self) -> bool:
        return self.status in self.PUBLIC

    @property
    def is_overdue(self) -> bool:
        return (
            self.status == self.Status.AWAITING
            and self.answer_due is not None
            and timezone.now() > self.answer_due
        )

    @property
    def threshold(self) -> int:
        return int(settings.AGENDA_SUPPORT_THRESHOLD)


class Support(models.Model):
    """One mailbox's support of one proposal: anonymous, never shown, counted once confirmed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="supports")
    email = EncryptedTextField()
    email_digest = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    wants_answer = models.BooleanField(default=False)
    is_proposer = models.BooleanField(default=False)
    language = models.CharField(max_length=8, default="en")
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_mailed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "email_digest"], name="one_support_per_mailbox"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="support_pending_age"),
            models.Index(fields=["email_digest"], name="support_digest"),
        ]

    def __str__(self) -> str:
        return f"support #{self.pk}"


class AnswerMotion(models.Model):
    """A member organization's motion to answer a proposal on the coalition's behalf.

    A decline or a merge never takes effect on one organization's word: it is published at once
    and becomes the coalition's answer only if no other member organization objects within
    COALITION_AGENDA_OBJECTION_DAYS; an objection (or the proposer's own choice) puts it to a
    coalition vote (members' Decision, one organization one vote). An adoption by the proposing
    organization alone needs no motion (it commits its own work); an adoption can still be put
    to a vote, and then the proposing organization starts the campaign once it is adopted.
    """

    class Kind(models.TextChoices):
        ADOPT = "adopt", _("Adopt")
        DECLINE = "decline", _("Decline")
        MERGE = "merge", _("Merge with a campaign")

    class Status(models.TextChoices):
        PENDING = "pending", _("Open for objections")
        VOTING = "voting", _("Put to a coalition vote")
        APPLIED = "applied", _("Became the coalition's answer")
        REJECTED = "rejected", _("Rejected by the coalition")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="motions")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    reason = models.TextField(_("published reason"), max_length=2000)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # For an adoption put to a vote: the campaign the proposing organization will start.
    campaign_title = models.CharField(max_length=200, blank=True)
    campaign_summary = models.TextField(max_length=600, blank=True)
    proposed_by = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    proposed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    effective_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    objected_by = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    objection = models.TextField(max_length=2000, blank=True)
    decision = models.OneToOneField(
        Decision, on_delete=models.SET_NULL, null=True, blank=True, related_name="agenda_motion"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal"],
                condition=models.Q(status__in=["pending", "voting"]),
                name="one_live_motion_per_proposal",
            ),
        ]


class ModerationAct(models.Model):
    """Who did what to a proposal's visibility and why: the public record of moderation."""

    class Action(models.TextChoices):
        PUBLISH = "publish", _("Published")
        HIDE = "hide", _("Hidden")
        RESTORE = "restore", _("Restored")
        # An adoption whose campaign never went live in time is no answer: back before the members.
        LAPSE = "lapse", _("Adoption lapsed: no live campaign in time")
        # A hiding by one organization stands only if a second party confirms it in time.
        CONFIRM = "confirm", _("Hiding confirmed")
        UNDO = "undo", _("Restored: the hiding was not confirmed in time")

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="moderation")
    action = models.CharField(max_length=8, choices=Action.choices)
    reason = models.CharField(max_length=300, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_staff = models.BooleanField(default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

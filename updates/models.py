"""Campaign updates: what the co-sponsors tell, together, the signers who asked to hear."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import Campaign, JointAct, OutcomeEvent, _localized
from members.models import Organization


class CampaignUpdate(models.Model):
    """One update: drafted by a co-sponsor, sent only as a joint act of all of them."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="updates")
    subject_en = models.CharField(_("subject (English)"), max_length=200, blank=True)
    subject_ru = models.CharField(_("subject (Russian)"), max_length=200, blank=True)
    body_en = models.TextField(_("text (English, Markdown)"), max_length=10000, blank=True)
    body_ru = models.TextField(_("text (Russian, Markdown)"), max_length=10000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    outcome = models.ForeignKey(
        OutcomeEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    drafted_by = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    drafted_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The joint act that sent it (or last proposed it); its answers are the public record.
    act = models.ForeignKey(
        JointAct, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    # Fan-out progress: signers are taken in order of their mailbox digest, once per mailbox.
    fanout_cursor = models.CharField(max_length=64, blank=True, default="")
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("campaign update")
        verbose_name_plural = _("campaign updates")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["campaign", "status"], name="update_campaign_status")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(subject_en="", subject_ru=""), name="update_has_a_subject"
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def subject(self) -> str:
        return _localized(self, "subject")

    @property
    def body(self) -> str:
        return _localized(self, "body")

    @property
    def is_proposed(self) -> bool:
        """A proposal waits for the co-sponsors' answers: the text is frozen meanwhile."""
        return self.act is not None and self.act.status == JointAct.Status.PENDING

    @property
    def is_editable(self) -> bool:
        # A withdrawn or stopped proposal leaves a draft that can be changed and proposed again.
        return self.status == self.Status.DRAFT and not self.is_proposed

    def content(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in ("subject_en", "subject_ru", "body_en", "body_ru")}

"""The outbox: every outgoing email is a row before it is a message.

A row is written in the same transaction as whatever caused it (a sign-up, a closed decision),
so nothing is sent for work that rolled back and nothing is lost when the broker is down.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.fields import EncryptedTextField


class Email(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=80)
    # Messages to signers and letters from them carry personal data: all of it is encrypted.
    to = EncryptedTextField(_("recipient"))
    # Keyed hash of the recipient's normalized mailbox (coalition/mailbox.py), the same digest
    # signatures carry: erasure finds the mail sent to every spelling of an address, and the
    # per-mailbox cap on signer mail counts it, without decrypting a row.
    recipient_digest = models.CharField(max_length=64, blank=True, default="")
    from_email = EncryptedTextField(_("from"))
    reply_to = EncryptedTextField(_("reply to"), blank=True)
    subject = EncryptedTextField(_("subject"))
    body_text = EncryptedTextField(_("text body"))
    body_html = EncryptedTextField(_("HTML body"), blank=True)
    # A stable Message-ID: if a worker dies between the SMTP hand-off and marking the row sent,
    # the one possible re-send carries the same id, which receiving systems use to drop copies.
    message_id = models.CharField(max_length=255, unique=True)

    # Mass mail (letters to EU contacts, petition deliveries, surveys) has its own lane in the
    # relay and its own Celery queue, so a wave of letters never delays a sign-up or a signature
    # confirmation someone is waiting for (outbox/tasks.py, bench/fanout.py).
    bulk = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # addresses scrubbed out (privacy.crypto.scrub)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "bulk", "next_attempt_at"], name="outbox_email_due"),
            models.Index(fields=["recipient_digest", "created_at"], name="outbox_email_mailbox"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

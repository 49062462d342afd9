"""The outbox: every outgoing email is a row before it is a message.

A row is written in the same transaction as whatever caused it (a sign-up, a closed decision),
so nothing is sent for work that rolled back and nothing is lost when the broker is down.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foundation.fields import EncryptedTextField


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
    # Keyed hash of the recipient's normalized mailbox (foundation/mailbox.py), the same digest
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
    # Mail rendered by the worker instead of inside the request that caused it (a signature's
    # confirmation: the sign POST is the platform's hottest path): the name of a renderer an app
    # registered (outbox.services.email_renderer_register) and its small JSON arguments (ids, a
    # template name: never personal data; the address is ``to``, encrypted). The row is written
    # with no subject or body; its first send attempt renders and stores them, so that a retry
    # sends the same bytes. Empty ``renderer``: rendered when it was queued.
    renderer = models.CharField(max_length=80, blank=True, default="")
    render_args = models.JSONField(blank=True, default=dict)

    # Mass mail (letters to EU contacts, petition deliveries, surveys) has its own lane in the
    # relay and its own Celery queue, so a wave of letters never delays a sign-up or a signature
    # confirmation someone is waiting for (outbox/services.py emails_due_claim, bench/fanout.py).
    bulk = models.BooleanField(default=False)
    # Non-transactional mail (campaign updates, reminders, reply surveys) names the list it
    # belongs to: "all" (every such mail of the platform) or "campaign:<id>" (one campaign's
    # updates). It carries RFC 8058 one-click unsubscribe headers with ``list_token`` and is
    # not sent to a suppressed mailbox (outbox/suppression.py). Empty: transactional mail.
    list_scope = models.CharField(max_length=40, blank=True, default="")
    list_token = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # addresses scrubbed out (foundation.crypto.scrub)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "bulk", "next_attempt_at"], name="outbox_email_due"),
            models.Index(fields=["recipient_digest", "created_at"], name="outbox_email_mailbox"),
            # The relay's count of rows handed out and not yet sent (services._in_flight): it
            # holds only those, a few thousand at most, however large the table.
            models.Index(
                fields=["bulk", "status", "dispatched_at"],
                name="outbox_email_in_flight",
                condition=models.Q(status__in=["queued", "sending"], dispatched_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def awaits_rendering(self) -> bool:
        """Queued by recipe and not rendered yet (a rendered body is never empty)."""
        return bool(self.renderer) and not self.body_text


class Suppression(models.Model):
    """A mailbox that gets no more non-transactional mail of a scope: "all", or one campaign's
    updates ("campaign:<id>"). Keyed by the keyed hash of the normalized mailbox, so no address
    is held, every spelling of it is covered, and it outlives the erasure of the signer's data
    (erasing must never subscribe someone again)."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")

    digest = models.CharField(max_length=64)
    scope = models.CharField(max_length=40)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("suppressed mailbox")
        verbose_name_plural = _("suppressed mailboxes")
        constraints = [
            models.UniqueConstraint(fields=["digest", "scope"], name="one_suppression_per_scope"),
        ]


class ListToken(models.Model):
    """The unsubscribe token of one mailbox on one list, named in its List-Unsubscribe links.

    Random and short (it is also the local part of the mailto: address, at most 64 octets), and
    kept apart from the mail rows, which are purged: a link in an old update keeps working.
    """

    token = models.CharField(max_length=40, unique=True)
    digest = models.CharField(max_length=64)
    scope = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["digest", "scope"], name="one_list_token_per_scope"),
        ]

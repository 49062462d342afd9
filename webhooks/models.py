"""Organizations' webhook endpoints and the deliveries to them (an outbox, like outbox.Email)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foundation.fields import EncryptedTextField
from members.models import Organization


class Endpoint(models.Model):
    """Where an organization's own tool (a CRM, a chat bot) wants to hear about events."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=100, blank=True)
    events = models.JSONField(_("events"), default=list)  # event type names (campaigns.events)
    seal_personal_data = models.BooleanField(_("seal personal data"), default=False)
    # Signing secrets ("whsec_" + base64), encrypted at rest: we must be able to sign with them,
    # so they cannot be hashed. The previous one still signs until previous_secret_until, so a
    # receiver can switch to the new secret without missing a delivery.
    secret = EncryptedTextField()
    previous_secret = EncryptedTextField(blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"webhook endpoint #{self.pk}"


class Delivery(models.Model):
    """One event for one endpoint: a row first, written in the transaction of the event."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The Standard Webhooks message id: the same on every attempt and replay (idempotency key).
    event_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=40)
    occurred_at = models.DateTimeField()
    # The exact JSON body that is signed and sent. Encrypted: it may carry a signer's name and
    # address. Emptied once nobody may need it again (a signer erased their data).
    payload = EncryptedTextField(blank=True)
    # Whose personal data the payload carries, so withdrawal and erasure can reach it.
    signature_id = models.PositiveBigIntegerField(null=True, blank=True)
    person_digest = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Retries stop here: a day after the event (or after a replay or a re-enabled endpoint).
    expires_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
            models.Index(fields=["person_digest"], name="webhook_delivery_person"),
            models.Index(fields=["signature_id"], name="webhook_delivery_signature"),
        ]

    def __str__(self) -> str:
        return f"webhook delivery #{self.pk}"

"""django-anymail webhooks: provider bounce events and inbound replies update our records.

anymail verifies each provider's webhook signature and turns the call into a signal; these
receivers are the only place outside services that react to a provider.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from anymail.signals import inbound, tracking
from django.db import transaction

from outbox.models import Email, Suppression
from outbox.services import email_failed_permanently
from outbox.suppression import ALL, suppression_add
from outreach.models import Contact, Letter
from outreach.services import reply_receive

logger = logging.getLogger(__name__)
_MESSAGE_ID = re.compile(r"<[^>]+>")


def on_tracking(sender: object, event: Any, esp_name: str, **kwargs: Any) -> None:
    if event.event_type not in {"bounced", "rejected", "complained", "unsubscribed"}:
        return
    message_id = event.message_id or ""
    with transaction.atomic():
        email = Email.objects.select_for_update().filter(message_id=message_id).first()
        if email is None:
            return
        # The suppression list hears every bounce, complaint and provider unsubscribe: no
        # more non-transactional mail of any kind to that mailbox (outbox/suppression.py).
        suppression_add(
            digest=email.recipient_digest,
            scope=ALL,
            reason={
                "complained": Suppression.Reason.COMPLAINED,
                "unsubscribed": Suppression.Reason.UNSUBSCRIBED,
            }.get(event.event_type, Suppression.Reason.BOUNCED),
        )
        if event.event_type == "unsubscribed":
            Contact.objects.filter(email__iexact=email.to).update(
                status=Contact.Status.UNSUBSCRIBED
            )
            return
        Email.objects.filter(pk=email.pk).update(
            status=Email.Status.FAILED, last_error=f"{esp_name}: {event.event_type}"[:1000]
        )
        email_failed_permanently(email=email)


def on_inbound(sender: object, event: Any, esp_name: str, **kwargs: Any) -> None:
    """A reply to one of our letters: match it by In-Reply-To, else by the sender's address."""
    message = event.message
    references = " ".join(filter(None, [message.get("In-Reply-To"), message.get("References")]))
    letter = None
    for message_id in _MESSAGE_ID.findall(references):
        letter = Letter.objects.filter(email__message_id=message_id).first()
        if letter is not None:
            break
    sender_address = (message.envelope_sender or "") or (
        message.from_email.addr_spec if message.from_email else ""
    )
    contact = (
        letter.contact if letter else Contact.objects.filter(email__iexact=sender_address).first()
    )
    if letter is None and contact is None:
        logger.info("inbound mail matched no letter or contact")
        return
    campaign_id = (
        letter.letter_campaign.campaign_id
        if letter
        else Letter.objects.filter(contact=contact)
        .order_by("-created_at")
        .values_list("letter_campaign__campaign_id", flat=True)
        .first()
    )
    if campaign_id is None:
        return
    # Stored without the quoted letter and its signer's details, unpublished until reviewed.
    reply_receive(
        campaign_id=campaign_id,
        contact=contact,
        letter=letter,
        text=message.text or "",
        subject=message.subject or "",
    )


def connect() -> None:
    tracking.connect(on_tracking, dispatch_uid="outreach.tracking")
    inbound.connect(on_inbound, dispatch_uid="outreach.inbound")

"""Provider webhooks, as anymail delivers them to us: bounces and inbound replies."""

from __future__ import annotations

import pytest
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from django.utils import timezone

from outbox.models import Email
from outreach import services
from outreach.models import Contact, Reply

pytestmark = pytest.mark.django_db


def test_bounce_event_marks_message_failed_and_contact_bouncing(letters, confirmed):
    letter = services.letters_send(letter_campaign=letters, signature=confirmed())[0]
    Email.objects.filter(pk=letter.email_id).update(
        status=Email.Status.SENT, sent_at=timezone.now()
    )
    event = AnymailTrackingEvent(event_type="bounced", message_id=letter.email.message_id)
    tracking.send(sender=object, event=event, esp_name="Postmark")
    letter.email.refresh_from_db()
    letter.contact.refresh_from_db()
    assert letter.email.status == Email.Status.FAILED
    assert "bounced" in letter.email.last_error
    assert letter.contact.status == Contact.Status.BOUNCING


def test_events_for_unknown_messages_change_nothing(letters, confirmed):
    services.letters_send(letter_campaign=letters, signature=confirmed())
    event = AnymailTrackingEvent(event_type="bounced", message_id="<unknown@x>")
    tracking.send(sender=object, event=event, esp_name="Postmark")
    assert not Email.objects.filter(status=Email.Status.FAILED).exists()


def test_inbound_reply_is_linked_to_the_letter_and_campaign(letters, confirmed, live):
    letter = services.letters_send(letter_campaign=letters, signature=confirmed())[0]
    message = AnymailInboundMessage.construct(
        from_email=letter.contact.email,
        to="replies@coalition.example",
        subject="Re: your letter",
        text="We have forwarded your concern.",
        headers=[("In-Reply-To", letter.email.message_id)],
    )
    inbound.send(
        sender=object,
        event=AnymailInboundEvent(event_type="inbound", message=message),
        esp_name="Postmark",
    )
    reply = Reply.objects.get()
    assert (reply.letter, reply.contact, reply.campaign) == (letter, letter.contact, live.campaign)
    assert reply.source == Reply.Source.INBOUND
    assert "forwarded" in reply.summary


def test_inbound_mail_from_strangers_is_ignored(letters):
    message = AnymailInboundMessage.construct(
        from_email="spam@spam.example", to="replies@coalition.example", text="buy"
    )
    inbound.send(
        sender=object,
        event=AnymailInboundEvent(event_type="inbound", message=message),
        esp_name="Postmark",
    )
    assert not Reply.objects.exists()

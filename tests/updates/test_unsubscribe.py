"""RFC 8058 one-click unsubscribe, the suppression list, DKIM, and mail health."""

from __future__ import annotations

import base64
from datetime import timedelta

import dkim
import pytest
from anymail.inbound import AnymailInboundMessage
from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, inbound, tracking
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import Signature
from outbox import suppression
from outbox.models import Email, Suppression
from outbox.services import email_enqueue, email_message, from_display
from outreach import services as outreach_services
from tests.factories import make_staff, sign_in
from tests.outbox.helpers import sent
from tests.updates.conftest import sign

pytestmark = pytest.mark.django_db


def _update_mail(live, email="anna@example.org"):
    signature = sign(live, email, updates=True)
    return signature, email_enqueue(
        kind="updates.update",
        to=email,
        subject="News",
        body_text="News.",
        bulk=True,
        list_scope=suppression.campaign_scope(live.campaign.pk),
    )


def test_list_mail_carries_one_click_headers_and_transactional_mail_none(live):
    _signature, mail = _update_mail(live)
    headers = email_message(mail).message()
    value = headers["List-Unsubscribe"]
    https, mailto = [part.strip(" <>") for part in value.split(",")]
    assert https == f"http://testserver/u/{mail.list_token}"
    assert mailto.startswith("mailto:unsubscribe+") and mail.list_token in mailto
    assert len(mailto.removeprefix("mailto:").partition("@")[0]) <= 64  # RFC 5321 local part
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    confirm = Email.objects.get(kind="campaigns.confirm")
    assert email_message(confirm).message()["List-Unsubscribe"] is None


def test_reminders_and_surveys_are_list_mail(live, letters, confirmed):
    signature = sign(live, "late@example.org", updates=False, confirm=False)
    Signature.objects.filter(pk=signature.pk).update(
        last_mailed_at=timezone.now() - timedelta(days=3),
        created_at=timezone.now() - timedelta(days=3),
    )
    campaign_services.signatures_remind_and_expire()
    reminder = sent(Email.objects.get(kind="campaigns.reminder"))
    assert reminder.list_scope == suppression.ALL and "/u/" in reminder.body_text
    outreach_services.letters_send(letter_campaign=letters, signature=confirmed())
    sent_at = timezone.now()
    Email.objects.filter(kind="outreach.letter").update(status=Email.Status.SENT, sent_at=sent_at)
    outreach_services.reply_surveys_due(now=sent_at + timedelta(days=15))
    survey = Email.objects.filter(kind="outreach.survey").first()
    assert survey.list_scope == suppression.ALL
    assert email_message(survey).message()["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_get_only_shows_a_button(client, live):
    """Link scanners fetch every URL in a mail: a GET must not unsubscribe anyone."""
    signature, mail = _update_mail(live)
    page = client.get(reverse("outbox:unsubscribe", args=[mail.list_token]))
    assert page.status_code == 200 and b'method="post"' in page.content
    assert not Suppression.objects.exists()
    signature.refresh_from_db()
    assert signature.wants_updates


def test_one_click_post_needs_no_csrf_token_no_login_and_acts_at_once(live):
    signature, mail = _update_mail(live)
    other = email_enqueue(
        kind="updates.update", to="anna@example.org", subject="Later", body_text=".",
        list_scope=mail.list_scope, send_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    client = Client(enforce_csrf_checks=True)  # as the mailbox provider posts: no cookie
    response = client.post(
        reverse("outbox:unsubscribe", args=[mail.list_token]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Suppression.objects.filter(
        digest=signature.email_digest, scope=mail.list_scope, reason="unsubscribed"
    ).exists()
    signature.refresh_from_db()
    other.refresh_from_db()
    assert signature.wants_updates is False  # the export shows it too
    assert other.status == Email.Status.CANCELLED  # queued mail of that list stays unsent
    again = email_enqueue(
        kind="updates.update", to="Anna@Example.org", subject="x", body_text=".",
        list_scope=mail.list_scope,
    )  # fmt: skip
    assert again.status == Email.Status.CANCELLED
    # Transactional mail still reaches her.
    assert email_enqueue(kind="x", to="anna@example.org", subject="s", body_text=".").status == (
        Email.Status.QUEUED
    )


def test_a_forged_token_changes_nothing(client, live):
    _update_mail(live)
    response = client.post(reverse("outbox:unsubscribe", args=["forged-token"]))
    assert response.status_code == 404
    assert b"not valid" in response.content
    assert not Suppression.objects.exists()


def test_the_page_can_stop_all_mail(client, live):
    signature, mail = _update_mail(live)
    client.post(reverse("outbox:unsubscribe", args=[mail.list_token]), {"everything": "1"})
    assert Suppression.objects.filter(digest=signature.email_digest, scope="all").exists()


def test_unsubscribing_one_campaign_keeps_the_others(live):
    signature, mail = _update_mail(live)
    suppression.unsubscribe(token=mail.list_token)
    assert suppression.mailbox_suppressed(digest=signature.email_digest, scope=mail.list_scope)
    assert not suppression.mailbox_suppressed(
        digest=signature.email_digest, scope=suppression.campaign_scope(live.campaign.pk + 1)
    )


def test_the_mailto_address_unsubscribes(live, settings):
    signature, mail = _update_mail(live)
    message = AnymailInboundMessage.construct(
        from_email="anna@example.org",
        to=f"unsubscribe+{mail.list_token}@coalition.example",
        subject="unsubscribe",
        text="",
    )
    inbound.send(
        sender=object,
        event=AnymailInboundEvent(event_type="inbound", message=message),
        esp_name="Postmark",
    )
    assert Suppression.objects.filter(digest=signature.email_digest).exists()


@pytest.mark.parametrize(
    ("event_type", "reason"), [("complained", "complained"), ("bounced", "bounced")]
)
def test_bounces_and_complaints_feed_the_suppression_list(live, event_type, reason):
    signature, mail = _update_mail(live)
    Email.objects.filter(pk=mail.pk).update(status=Email.Status.SENT, sent_at=timezone.now())
    event = AnymailTrackingEvent(event_type=event_type, message_id=mail.message_id)
    tracking.send(sender=object, event=event, esp_name="Postmark")
    assert Suppression.objects.filter(
        digest=signature.email_digest, scope="all", reason=reason
    ).exists()


def test_staff_figures_show_the_complaint_rate_and_warn_at_a_tenth_of_a_percent(client, live):
    now = timezone.now()
    Email.objects.bulk_create(
        [
            Email(kind="x", to="a@example.org", from_email="f", subject="s", body_text=".",
                  message_id=f"<{i}@t>", status=Email.Status.SENT, sent_at=now)
            for i in range(999)
        ]
    )  # fmt: skip
    sign_in(client, *make_staff())
    page = client.get(reverse("results:staff_figures")).content.decode()
    assert "Mail health" in page and 'role="alert"' not in page
    Suppression.objects.create(digest="d" * 64, scope="all", reason="complained")
    page = client.get(reverse("results:staff_figures")).content.decode()
    assert "0.10 %" in page and 'role="alert"' in page


def _key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def test_dkim_signature_verifies_and_covers_the_unsubscribe_headers(live, settings):
    pem, record = _key()
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR, settings.DKIM_PRIVATE_KEY = (
        "coalition.example", "mail2026", pem,
    )  # fmt: skip
    _signature, mail = _update_mail(live)
    Email.objects.filter(pk=mail.pk).update(subject="Новости кампании", body_text="Текст.\n")
    mail.refresh_from_db()
    import email.policy

    data = email_message(mail).message(policy=email.policy.SMTP).as_bytes()
    looked_up = []

    def dns(name, timeout=5):
        looked_up.append(name)
        return record

    assert dkim.verify(data, dnsfunc=dns)
    assert looked_up == [b"mail2026._domainkey.coalition.example."]
    signed = data.split(b"DKIM-Signature:")[1].split(b"b=")[0].replace(b"\r\n", b"").lower()
    for header in (b"from", b"subject", b"date", b"message-id", b"to", b"list-unsubscribe",
                   b"list-unsubscribe-post"):  # fmt: skip
        assert header in signed
    tampered = data.replace(mail.list_token.encode(), b"attacker-token")
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_without_a_key_nothing_is_signed(live, settings):
    settings.DKIM_PRIVATE_KEY = ""
    _signature, mail = _update_mail(live)
    assert b"DKIM-Signature" not in email_message(mail).message().as_bytes()


def test_the_signer_display_name_cannot_break_the_from_header():
    value = from_display('Anna "x"\r\nBcc: victim@example.org via Coalition', "l@c.example")
    assert "\n" not in value and "\r" not in value
    from email.headerregistry import HeaderRegistry

    header = HeaderRegistry()("From", value)
    assert [a.addr_spec for a in header.addresses] == ["l@c.example"]


def test_staff_see_the_suppression_list_as_hashes_and_may_only_lift_an_entry(client):
    entry = Suppression.objects.create(digest="ab" * 32, scope="all", reason="unsubscribed")
    sign_in(client, *make_staff())
    page = client.get(reverse("admin:outbox_suppression_changelist"))
    assert page.status_code == 200 and "abababababab…" in page.content.decode()
    assert client.get(reverse("admin:outbox_suppression_add")).status_code == 403
    response = client.post(
        reverse("admin:outbox_suppression_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Suppression.objects.exists()


def test_deploy_check_warns_when_from_is_not_on_the_dkim_domain(settings):
    from outbox.dkim import from_aligned_with_dkim

    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR, settings.DKIM_PRIVATE_KEY = "c.example", "s", "k"
    settings.DEFAULT_FROM_EMAIL = "Coalition <noreply@c.example>"
    settings.OUTREACH_FROM_ADDRESS = "letters@mail.c.example"
    assert from_aligned_with_dkim() == []
    settings.OUTREACH_FROM_ADDRESS = "letters@gmail.com"
    assert [w.id for w in from_aligned_with_dkim()] == ["outbox.W001"]
    settings.DKIM_PRIVATE_KEY = ""
    assert from_aligned_with_dkim() == []

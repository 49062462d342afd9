"""Issue 12, "Done means": an update to signers, end to end through HTTP, the real worker and SMTP.

A signer ticks "keep me informed" and confirms; two co-sponsors' admins approve an update; the
worker fans it out and sends it to a loopback SMTP server; the message carries RFC 8058 one-click
unsubscribe headers and a DKIM signature that verifies against the published key (a DNS stub);
the one-click POST unsubscribes; the next update does not reach that signer (and still reaches
another, so the absence is not just a slow worker).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import dkim
import pytest
import redis
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.test import Client
from django.urls import reverse

from campaigns import services as campaign_services
from campaigns import signing
from campaigns.models import JointAct, Signature
from outbox.models import Suppression
from tests.integration.conftest import _free_port, _require_services, run_worker, wait_until
from updates.models import CampaignUpdate

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SELECTOR, DOMAIN = "coalition2026", "coalition.example"


class RawInbox:
    """Keeps each message's bytes exactly as they arrived: DKIM is verified over them."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.raw.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"

    def messages(self) -> list[tuple[bytes, Message]]:
        return [(raw, message_from_bytes(raw)) for raw in list(self.raw)]

    def to(self, address: str, subject: str = "") -> list[tuple[bytes, Message]]:
        return [
            (raw, m)
            for raw, m in self.messages()
            if m["To"] == address and subject in str(m["Subject"] or "")
        ]


def _key() -> tuple[str, bytes]:
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


@pytest.fixture
def mail_worker(transactional_db: None) -> Iterator[tuple[RawInbox, bytes]]:
    _require_services()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    inbox, port = RawInbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    pem, record = _key()
    env = {
        "COALITION_DKIM_DOMAIN": DOMAIN,
        "COALITION_DKIM_SELECTOR": SELECTOR,
        "COALITION_DKIM_PRIVATE_KEY": pem,
    }
    try:
        with run_worker(redis_url=settings.REDIS_URL, smtp_port=port, extra_env=env):
            yield inbox, record
    finally:
        controller.stop()


def _text(message: Message) -> str:
    part = message.get_payload(0) if message.is_multipart() else message
    return part.get_payload(decode=True).decode()


def _send_update(live, subject: str) -> CampaignUpdate:
    """A's admin drafts and proposes (A approves thereby); B's admin approves: all over HTTP."""
    a, b = Client(), Client()
    a.force_login(live.admins[0])
    b.force_login(live.admins[1])
    kwargs = {"org": live.orgs[0].slug, "slug": live.campaign.slug}
    response = a.post(
        reverse("updates:create", kwargs=kwargs),
        {"subject_en": subject, "body_en": "The Commission **agreed** to meet us."},
    )
    assert response.status_code == 302, response.content
    update = CampaignUpdate.objects.get(subject_en=subject)
    response = a.post(reverse("updates:propose", kwargs={**kwargs, "pk": update.pk}))
    assert response.status_code == 302
    update.refresh_from_db()
    assert update.act is not None and update.act.status == JointAct.Status.PENDING
    response = b.post(
        reverse(
            "campaigns:act_answer",
            kwargs={"org": live.orgs[1].slug, "slug": live.campaign.slug, "pk": update.act.pk},
        ),
        {"answer": "approve"},
    )
    assert response.status_code == 302
    update.act.refresh_from_db()
    assert update.act.status == JointAct.Status.ADOPTED
    return update


def test_update_reaches_the_signer_signed_and_one_click_unsubscribe_stops_the_next(
    live, mail_worker
):
    inbox, dns_record = mail_worker
    signer = "anna.update@example.org"

    # She signs on the page and ticks "keep me informed".
    response = Client().post(
        reverse("campaigns:petition", args=[live.petition.slug]),
        {
            "name": "Anna Petrova",
            "email": signer,
            "country": "DE",
            "display": "anonymous",
            "updates": "on",
        },
    )
    assert response.status_code == 302
    # The worker mails the confirmation; its review says she asked for updates.
    wait_until(lambda: bool(inbox.to(signer)), timeout=45)
    confirmation = _text(inbox.to(signer)[0][1])
    assert "You will get the co-sponsors' joint updates" in confirmation
    path = re.search(r"https?://testserver(/signatures/confirm/\S+/)", confirmation).group(1)
    response = Client().post(path, {"review": "1", "display": "anonymous", "updates": "on"})
    assert response.status_code == 302
    signature = Signature.objects.get(email_digest=signing.email_digest(signer))
    assert signature.status == Signature.Status.CONFIRMED and signature.wants_updates

    # A second signer, the control: she keeps the updates.
    control = campaign_services.signature_create(
        petition=live.petition, name="Olga K", email="olga.control@example.org", country="LV",
        updates=True,
    )  # fmt: skip
    campaign_services.signature_confirm(token=signing.token_make(control.pk, "confirm"))

    first = _send_update(live, "First update")
    wait_until(lambda: bool(inbox.to(signer, "First update")), timeout=60)
    raw, message = inbox.to(signer, "First update")[0]

    # RFC 8058: an https URI and a mailto:, and the one-click POST marker.
    links = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    https = next(link for link in links if link.startswith("http"))
    assert any(link.startswith("mailto:unsubscribe+") for link in links)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["From"].endswith("@coalition.example>")

    # DKIM: verifies against the published key, and covers the unsubscribe headers.
    looked_up: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        looked_up.append(name)
        return dns_record

    assert dkim.verify(raw, dnsfunc=dns)
    assert looked_up == [f"{SELECTOR}._domainkey.{DOMAIN}.".encode()]
    tags = message["DKIM-Signature"].replace("\r\n", "").replace(" ", "").lower()
    assert "list-unsubscribe:list-unsubscribe-post" in tags or (
        "list-unsubscribe" in tags and "list-unsubscribe-post" in tags
    )

    # The one-click POST, as a mailbox provider sends it: no cookie, no CSRF token, no login.
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(
        https.removeprefix("http://testserver"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Suppression.objects.filter(digest=signature.email_digest).exists()
    signature.refresh_from_db()
    assert signature.wants_updates is False
    wait_until(lambda: CampaignUpdate.objects.get(pk=first.pk).status == "sent", timeout=30)

    # The next update reaches the control signer but not her.
    second = _send_update(live, "Second update")
    wait_until(lambda: bool(inbox.to("olga.control@example.org", "Second update")), timeout=60)
    wait_until(lambda: CampaignUpdate.objects.get(pk=second.pk).status == "sent", timeout=30)
    assert not inbox.to(signer, "Second update")

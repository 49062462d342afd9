"""The signer's mail queued by recipe (outbox "render later"), hardened after an attacker's read:
a failing renderer leaves no personal data in what staff see, a withdrawn signature's mail that
waits for a retry is not sent, a recipe naming another mailbox's signature sends nothing, and a
row the sweep took back from this claim is not rendered by it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from campaigns import services
from campaigns.signing import token_make
from outbox import services as outbox_services
from outbox.models import Email

pytestmark = pytest.mark.django_db


def _sign(live: Any, email: str = "maria@example.org") -> Any:
    signature = services.signature_create(
        petition=live.petition, name="Мария Иванова", email=email, country="DE"
    )
    assert signature is not None
    return signature


def test_a_renderer_s_exception_text_reaches_neither_the_row_nor_the_log(
    live: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _sign(live)
    row = Email.objects.get(kind="campaigns.confirm")

    def leaky(email: Email) -> None:
        raise ValueError("cannot review Мария Иванова, token abc123")

    monkeypatch.setitem(outbox_services._RENDERERS, services.SIGNER_MAIL_RENDERER, leaky)
    assert outbox_services.emails_send(ids=[row.pk]) == {row.pk: "deferred"}
    row.refresh_from_db()
    assert row.status == Email.Status.QUEUED
    assert "ValueError" in row.last_error
    assert "Мария" not in row.last_error and "abc123" not in row.last_error
    assert "Мария" not in caplog.text and "abc123" not in caplog.text


def test_a_withdrawn_signature_s_mail_waiting_for_a_retry_is_not_sent(live: Any) -> None:
    signature = _sign(live)
    row = Email.objects.get(kind="campaigns.confirm")
    # Rendered on a first attempt that the mail server refused for now: back in the queue.
    Email.objects.filter(pk=row.pk).update(
        subject="Confirm", body_text="rendered earlier\n", last_error="SMTP 451: later"
    )
    services.signature_withdraw(token=token_make(signature.pk, "withdraw"))
    row.refresh_from_db()
    assert row.status == Email.Status.CANCELLED
    assert outbox_services.emails_send(ids=[row.pk]) == {row.pk: "skipped"}
    assert mail.outbox == []


def test_a_recipe_naming_another_mailbox_s_signature_sends_nothing(live: Any) -> None:
    victim = _sign(live, "victim@example.org")
    _sign(live, "other@example.org")
    rows = {email.to: email for email in Email.objects.filter(kind="campaigns.confirm")}
    row = rows["other@example.org"]
    Email.objects.filter(pk=row.pk).update(
        render_args={"signature": victim.pk, "template": "confirm"}
    )
    assert outbox_services.emails_send(ids=[row.pk]) == {row.pk: "gone"}
    assert mail.outbox == []


def test_a_row_taken_back_from_this_claim_is_not_rendered_by_it(live: Any) -> None:
    _sign(live)
    row = Email.objects.get(kind="campaigns.confirm")
    (claimed,) = outbox_services.emails_claim(ids=[row.pk])
    # The sweep took it back and another worker claimed it meanwhile.
    Email.objects.filter(pk=row.pk).update(claimed_at=timezone.now() + timedelta(seconds=1))
    assert outbox_services._email_render(claimed) == "skipped"
    row.refresh_from_db()
    assert (row.subject, row.body_text) == ("", "")

"""The account forms (password reset, sign-up) mail an address anyone can type: like the public
forms' mail, one mailbox gets at most the daily budget, whatever spelling of it was typed
(outbox/mailbox_cap.py). allauth's own limits count the address as typed, so dots and +tags
each had a fresh budget."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse

from foundation.mailbox import email_digest
from outbox.mailbox_cap import ACCOUNT_FORM_MAIL_KINDS
from outbox.models import Email
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SPELLINGS = [
    "victim.person@gmail.com",
    "victimperson@gmail.com",
    "Victim.Person+a@gmail.com",
    "victimperson+b@gmail.com",
    "v.i.c.t.i.m.person@gmail.com",
    "VICTIMPERSON+c@googlemail.com",
]


def _reset(client: Client, address: str, n: int) -> int:
    response = client.post(
        reverse("account_reset_password"), {"email": address}, REMOTE_ADDR=f"10.9.{n}.1"
    )
    return response.status_code


def test_password_resets_to_every_spelling_of_an_unknown_address_stop_at_the_budget(
    settings: LazySettings,
) -> None:
    settings.SIGNATURE_MAILS_PER_MAILBOX = 3
    client = Client()
    codes = [_reset(client, address, n) for n, address in enumerate(SPELLINGS)]
    assert set(codes) == {302}  # the same answer every time: nothing tells the cap was reached
    digest = email_digest("victimperson@gmail.com")
    mail = Email.objects.filter(recipient_digest=digest, kind__in=ACCOUNT_FORM_MAIL_KINDS)
    assert mail.count() == 3


def test_a_flood_of_signatures_in_an_admins_name_does_not_stop_their_password_reset(
    settings: LazySettings, live: object
) -> None:
    """Two budgets: the public forms' mail cannot use up the account forms'."""
    from campaigns import services

    settings.SIGNATURE_MAILS_PER_MAILBOX = 2
    UserFactory(email="admin.person@example.org")
    for _ in range(3):
        services.signature_create(
            petition=live.petition,  # type: ignore[attr-defined]
            name="Someone",
            email="admin.person@example.org",
            country="DE",
        )
    assert _reset(Client(), "admin.person@example.org", 1) == 302
    assert Email.objects.filter(kind="account.password_reset_key").count() == 1

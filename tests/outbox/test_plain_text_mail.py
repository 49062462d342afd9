"""Plain-text mail is not HTML: a petition called "Banks & cards" must not reach a signer as
"Banks &amp; cards" (Django escapes every template by default, .txt ones too)."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.models import Petition
from outbox.models import Email
from tests.outbox.helpers import sent

pytestmark = pytest.mark.django_db


def test_a_confirmation_mail_quotes_the_petition_s_title_as_written(live) -> None:
    Petition.objects.filter(pk=live.petition.pk).update(title_en='Banks & cards: "no" <never>')
    live.petition.refresh_from_db()
    services.signature_create(
        petition=live.petition, name="O'Brien", email="obrien@example.org", country="DE"
    )
    mail = sent(Email.objects.get(kind="campaigns.confirm"))
    assert 'Banks & cards: "no" <never>' in mail.body_text
    assert "&amp;" not in mail.body_text and "&quot;" not in mail.body_text

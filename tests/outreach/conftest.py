from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import Signature
from campaigns.signing import token_make
from outreach.models import Contact, LetterCampaign


@pytest.fixture
def contacts(db: None) -> list[Contact]:
    return [
        Contact.objects.create(
            name="DG FISMA", email="fisma@commission.europa.example", institution="commission",
            kind="office", country="BE", topics=["banking"],
        ),
        Contact.objects.create(
            name="Anna MEP", email="anna@europarl.europa.example", institution="ep",
            country="DE", topics=["banking", "visas"], languages=["de", "en"],
        ),
        Contact.objects.create(
            name="Blocked Office", email="blocked@x.example", institution="national",
            country="DE", topics=["banking"], status=Contact.Status.BLOCKED,
        ),
    ]  # fmt: skip


@pytest.fixture
def letters(live, contacts) -> LetterCampaign:
    return LetterCampaign.objects.create(
        campaign=live.campaign,
        petition=live.petition,
        subject_en="About {campaign_title}",
        body_en="Dear {target_name},\n{personal_message}\n{signer_name}, {signer_country}",
        targeting=LetterCampaign.Targeting.TOPIC,
        topic="banking",
        reply_to="replies@coalition.example",
        starts_at=timezone.now() - timedelta(hours=1),
        test_mode=False,
    )


@pytest.fixture
def confirmed(live):
    def make(email: str = "olga@example.org", country: str = "DE") -> Signature:
        signature = campaign_services.signature_create(
            petition=live.petition, name="Olga Smirnova", email=email, country=country
        )
        assert signature is not None
        return campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))

    return make

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import joint
from campaigns import services as campaign_services
from campaigns.models import Signature
from campaigns.signing import token_make
from outreach import services
from outreach.models import Contact, LetterCampaign


@pytest.fixture
def contacts(db: None) -> list[Contact]:
    return contacts_make()


def contacts_make() -> list[Contact]:
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


def approve_letter_campaign(live, letter_campaign: LetterCampaign) -> LetterCampaign:
    """Every co-sponsor's admin approves the letter campaign as it is (the joint act)."""
    act = services.letter_campaign_propose(
        letter_campaign=letter_campaign, organization=live.orgs[0], user=live.admins[0]
    )
    for organization, admin in zip(live.orgs[1:], live.admins[1:], strict=True):
        joint.joint_act_answer(act=act, organization=organization, user=admin, approve=True)
    letter_campaign.refresh_from_db()
    assert not letter_campaign.test_mode and letter_campaign.approved_fingerprint
    return letter_campaign


@pytest.fixture
def letters(live, contacts) -> LetterCampaign:
    """A letter campaign every co-sponsor approved, open for sending."""
    return letters_make(live)


def letters_make(live) -> LetterCampaign:
    """What ``letters`` returns (it needs the ``contacts`` to target), for scenarios built once
    per module (tests/test_permissions.py)."""
    letter_campaign = LetterCampaign.objects.create(
        campaign=live.campaign,
        petition=live.petition,
        subject_en="About {campaign_title}",
        body_en="Dear {target_name},\n{personal_message}\n{signer_name}, {signer_country}",
        targeting=LetterCampaign.Targeting.TOPIC,
        topic="banking",
        starts_at=timezone.now() - timedelta(hours=1),
    )
    return approve_letter_campaign(live, letter_campaign)


@pytest.fixture
def confirmed(live):
    def make(email: str = "olga@example.org", country: str = "DE") -> Signature:
        signature = campaign_services.signature_create(
            petition=live.petition, name="Olga Smirnova", email=email, country=country
        )
        assert signature is not None
        return campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))

    return make

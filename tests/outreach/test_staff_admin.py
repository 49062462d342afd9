"""Issue 10: a stolen staff password (with its TOTP) must not act for every co-sponsor.

The staff admin let staff edit a letter campaign outright (its text, targets, test mode and the
approval fingerprint itself) and a petition delivery's recipients, so one account could put a
letter on the air or send it elsewhere past the co-sponsors' joint approval; and a contact's
address could be changed under an approved letter, which bound only the contacts' ids.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from outreach import selectors, services
from outreach.models import Contact, LetterCampaign
from tests.admin_forms import admin_change_data
from tests.factories import make_staff, sign_in
from tests.outreach.conftest import approve_letter_campaign

pytestmark = pytest.mark.django_db

SPY = "spy@attacker.example"


@pytest.fixture
def staff_client(client: Client) -> Client:
    staff, secret = make_staff()
    sign_in(client, staff, secret)
    return client


@pytest.fixture
def fixed_letter(live, contacts) -> LetterCampaign:
    letter_campaign = LetterCampaign.objects.create(
        campaign=live.campaign,
        petition=live.petition,
        subject_en="About {campaign_title}",
        body_en="Dear {target_name},\n{personal_message}\n{signer_name}",
        targeting=LetterCampaign.Targeting.FIXED,
        starts_at=timezone.now() - timedelta(hours=1),
    )
    letter_campaign.targets.set([contacts[0]])
    return approve_letter_campaign(live, letter_campaign)


def test_staff_may_view_a_letter_campaign_but_not_change_or_add_one(staff_client, live, contacts):
    draft = LetterCampaign.objects.create(
        campaign=live.campaign,
        petition=live.petition,
        subject_en="Draft",
        body_en="Dear {target_name}",
        targeting=LetterCampaign.Targeting.FIXED,
    )
    draft.targets.set([contacts[0]])
    url = reverse("admin:outreach_lettercampaign_change", args=[draft.pk])
    page = staff_client.get(url)
    assert page.status_code == 200 and "Draft" in page.content.decode()
    # Put the unapproved draft on the air: clear test mode and copy its fingerprint in.
    response = staff_client.post(
        url,
        {
            "campaign": live.campaign.pk,
            "petition": live.petition.pk,
            "subject_en": "Draft",
            "body_en": "Dear {target_name}",
            "targeting": "fixed",
            "targets": [contacts[0].pk, contacts[1].pk],
            "max_personal_length": 600,
            "hourly_cap": 30,
            "starts_at_0": "2026-01-01",
            "starts_at_1": "10:00:00",
            "approved_fingerprint": selectors.letter_campaign_fingerprint(draft),
            "created_at_0": "2026-01-01",
            "created_at_1": "10:00:00",
        },
    )
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.test_mode and not draft.approved_fingerprint
    assert list(draft.targets.all()) == [contacts[0]]
    assert not selectors.letter_campaign_is_approved(draft)
    add = reverse("admin:outreach_lettercampaign_add")
    assert staff_client.post(add, {"subject_en": "Mine"}).status_code == 403
    assert not LetterCampaign.objects.filter(subject_en="Mine").exists()
    delete = reverse("admin:outreach_lettercampaign_delete", args=[draft.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert LetterCampaign.objects.filter(pk=draft.pk).exists()


def test_staff_cannot_change_a_petition_delivery(staff_client, live, contacts):
    delivery = services.delivery_prepare(
        petition=live.petition, targets=[contacts[0]], milestone=100
    )
    url = reverse("admin:outreach_petitiondelivery_change", args=[delivery.pk])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url,
        {
            "petition": live.petition.pk,
            "milestone": 1,
            "include_names": "on",
            "targets": [contacts[1].pk],
            "created_at_0": "2026-01-01",
            "created_at_1": "10:00:00",
        },
    )
    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.milestone == 100 and not delivery.include_names
    assert list(delivery.targets.all()) == [contacts[0]]


def test_a_contact_address_changed_by_staff_takes_an_approved_letter_off_the_air(
    staff_client, live, contacts, fixed_letter
):
    """The approval bound the contacts' ids only: staff could point an approved letter's fixed
    target at any mailbox, and every signer's letter went there."""
    assert selectors.letter_campaign_is_approved(fixed_letter)
    before = selectors.letter_campaign_fingerprint(fixed_letter)
    url = reverse("admin:outreach_contact_change", args=[contacts[0].pk])
    data = admin_change_data(staff_client.get(url))
    data["email"] = SPY
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Contact.objects.get(pk=contacts[0].pk).email == SPY
    fixed_letter.refresh_from_db()
    assert selectors.letter_campaign_fingerprint(fixed_letter) != before
    assert not selectors.letter_campaign_is_approved(fixed_letter)
    assert selectors.letter_campaign_for_signature(signature=_any_signature(live)) is None
    # The change is in the contact's admin history.
    entry = LogEntry.objects.filter(object_id=str(contacts[0].pk)).latest("action_time")
    assert "Email" in entry.get_change_message() or "email" in entry.get_change_message()


def _any_signature(live):
    from campaigns import services as campaign_services

    signature = campaign_services.signature_create(
        petition=live.petition, name="Olga Smirnova", email="olga@example.org", country="DE"
    )
    assert signature is not None
    return signature

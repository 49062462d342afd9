"""Issue 16: high security for a campaign's signers, and who may switch it off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns import joint, services
from campaigns.models import Campaign, JointAct, Signature
from campaigns.services import security
from members.models import Membership
from privacy.services import retention_purge
from tests.campaigns.conftest import LiveCampaign
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def _action(client: Client, live: LiveCampaign, org: int, action: str):
    return client.post(
        reverse("campaigns:action", args=[live.orgs[org].slug, live.campaign.slug, action])
    )


def _sign(client: Client, live: LiveCampaign, **extra: str):
    body = {
        "name": "Мария Иванова",
        "email": "maria@example.org",
        "country": "LV",
        "city": "Riga",
        "display": "full",
        **extra,
    }
    return client.post(live.petition.get_absolute_url(), body)


def test_an_admin_of_any_cosponsor_switches_it_on_and_earlier_signatures_become_anonymous(
    client: Client, live: LiveCampaign
) -> None:
    earlier = services.signature_create(
        petition=live.petition,
        name="Olga Petrova",
        email="olga@example.org",
        country="DE",
        city="Berlin",
        display=Signature.Display.FULL_NAME,
    )
    assert earlier is not None
    client.force_login(live.admins[1])  # the co-sponsor that did not start the campaign
    response = _action(client, live, 1, "high_security_on")
    assert response.status_code == 302
    live.campaign.refresh_from_db()
    assert live.campaign.high_security
    earlier.refresh_from_db()
    assert earlier.city == "" and earlier.display == Signature.Display.ANONYMOUS


def test_an_editor_cannot_switch_it_on(client: Client, live: LiveCampaign) -> None:
    editor = make_member(live.orgs[0], Membership.Role.EDITOR, mfa=True)
    client.force_login(editor)
    _action(client, live, 0, "high_security_on")
    live.campaign.refresh_from_db()
    assert not live.campaign.high_security


def test_the_sign_form_then_asks_for_no_city_and_shows_no_name(
    client: Client, live: LiveCampaign
) -> None:
    Campaign.objects.filter(pk=live.campaign.pk).update(high_security=True)
    page = client.get(live.petition.get_absolute_url()).content.decode()
    assert 'name="city"' not in page and 'name="display"' not in page
    assert 'name="email"' in page
    # A tampered post (or an API client) cannot put them back.
    assert _sign(client, live).status_code == 302
    signature = Signature.objects.get()
    assert signature.city == "" and signature.display == Signature.Display.ANONYMOUS


def test_the_api_cannot_put_a_city_or_a_shown_name_into_a_high_security_campaign(
    client: Client, live: LiveCampaign
) -> None:
    Campaign.objects.filter(pk=live.campaign.pk).update(high_security=True)
    response = client.post(
        reverse("api:signatures", args=[live.petition.slug]),
        {
            "name": "Ivan Smirnov",
            "email": "ivan@example.org",
            "country": "LV",
            "city": "Riga",
            "display": "full",
        },
        content_type="application/json",
    )
    assert response.status_code == 202
    signature = Signature.objects.get()
    assert signature.city == "" and signature.display == Signature.Display.ANONYMOUS


def test_it_cannot_be_switched_off_once_anyone_signed(client: Client, live: LiveCampaign) -> None:
    client.force_login(live.admins[0])
    _action(client, live, 0, "high_security_on")
    _sign(Client(), live)
    response = _action(client, live, 0, "high_security_off")
    assert response.status_code == 302
    assert not JointAct.objects.filter(kind=security.HIGH_SECURITY_OFF_ACT).exists()
    live.campaign.refresh_from_db()
    assert live.campaign.high_security


def test_switching_off_before_anyone_signed_needs_every_cosponsor(
    client: Client, live: LiveCampaign
) -> None:
    security.campaign_high_security_on(
        campaign=live.campaign, organization=live.orgs[0], user=live.admins[0]
    )
    act = security.campaign_high_security_off_propose(
        campaign=live.campaign, organization=live.orgs[0], user=live.admins[0]
    )
    live.campaign.refresh_from_db()
    assert live.campaign.high_security  # the proposer's own approval is not enough
    assert act.rule == JointAct.Rule.UNANIMOUS
    joint.joint_act_answer(act=act, organization=live.orgs[1], user=live.admins[1], approve=True)
    live.campaign.refresh_from_db()
    assert not live.campaign.high_security


def test_a_signature_arriving_while_the_act_waits_keeps_it_on(live: LiveCampaign) -> None:
    security.campaign_high_security_on(
        campaign=live.campaign, organization=live.orgs[0], user=live.admins[0]
    )
    act = security.campaign_high_security_off_propose(
        campaign=live.campaign, organization=live.orgs[0], user=live.admins[0]
    )
    services.signature_create(
        petition=live.petition, name="Pavel Kozlov", email="pavel@example.org", country="DE"
    )
    joint.joint_act_answer(act=act, organization=live.orgs[1], user=live.admins[1], approve=True)
    act.refresh_from_db()
    live.campaign.refresh_from_db()
    assert live.campaign.high_security
    assert act.status != JointAct.Status.ADOPTED


def test_signers_data_of_a_closed_high_security_campaign_goes_sooner(
    live: LiveCampaign, settings: LazySettings
) -> None:
    services.signature_create(
        petition=live.petition, name="Pavel Kozlov", email="pavel@example.org", country="DE"
    )
    closed = timezone.now() - settings.HIGH_SECURITY_RETENTION_AFTER_CLOSE - timedelta(hours=1)
    Campaign.objects.filter(pk=live.campaign.pk).update(
        status=Campaign.Status.CLOSED, closed_at=closed, result=Campaign.Result.WON
    )
    retention_purge()
    assert Signature.objects.count() == 1  # the usual retention has not passed
    Campaign.objects.filter(pk=live.campaign.pk).update(high_security=True)
    retention_purge()
    assert Signature.objects.count() == 0

"""Issue 16: high security for a campaign's signers, and who may switch it off."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import LazySettings
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns import joint, services
from campaigns.models import Campaign, JointAct, Petition, Signature
from campaigns.services import security
from members.models import Membership, Organization
from outbox.models import Email
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


# --- the attacker's review of issue 16 ----------------------------------------------------------


def test_a_suspended_cosponsor_cannot_switch_it_on(client: Client, live: LiveCampaign) -> None:
    """It decides what happens to signers' data: signer_data access, so two-factor and a member
    organization (suspension does not end a co-sponsorship)."""
    Organization.objects.filter(pk=live.orgs[1].pk).update(status=Organization.Status.SUSPENDED)
    client.force_login(live.admins[1])
    response = _action(client, live, 1, "high_security_on")
    assert response.status_code == 403
    live.campaign.refresh_from_db()
    assert not live.campaign.high_security


def test_an_admin_without_two_factor_cannot_switch_it_on(
    client: Client, live: LiveCampaign
) -> None:
    admin = make_member(live.orgs[1], Membership.Role.ADMIN, mfa=False)
    client.force_login(admin)
    _action(client, live, 1, "high_security_on")
    live.campaign.refresh_from_db()
    assert not live.campaign.high_security


def test_every_other_admin_of_every_cosponsor_hears_who_switched_it_on(
    client: Client, live: LiveCampaign
) -> None:
    colleague = make_member(live.orgs[1], Membership.Role.ADMIN, mfa=True)
    client.force_login(live.admins[1])
    assert _action(client, live, 1, "high_security_on").status_code == 302
    mails = Email.objects.filter(kind="campaigns.high_security_on")
    assert sorted(m.to for m in mails) == sorted([live.admins[0].email, colleague.email])
    body = next(m.body_text for m in mails if m.to == live.admins[0].email)
    assert live.admins[1].email in body and live.orgs[1].name in body
    assert timezone.now().strftime("%Y-%m-%d") in body
    # Switching it on again changes nothing and mails nobody again.
    _action(client, live, 1, "high_security_on")
    assert Email.objects.filter(kind="campaigns.high_security_on").count() == 2


def test_a_signature_given_with_a_stale_petition_is_still_anonymized(live: LiveCampaign) -> None:
    """The flag is read from the database at insert time, not from the petition object the
    caller holds (which may come from a cache)."""
    stale = Petition.objects.select_related("campaign").get(pk=live.petition.pk)
    Campaign.objects.filter(pk=live.campaign.pk).update(high_security=True)
    signature = services.signature_create(
        petition=stale,
        name="Olga Petrova",
        email="olga@example.org",
        country="DE",
        city="Berlin",
        display=Signature.Display.FULL_NAME,
    )
    assert signature is not None
    signature.refresh_from_db()
    assert signature.city == "" and signature.display == Signature.Display.ANONYMOUS


@pytest.mark.django_db(transaction=True)
def test_a_signature_made_while_it_is_switched_on_keeps_no_city_or_name(
    live: LiveCampaign,
) -> None:
    """The race: a signer read the flag as off, the switch-on anonymized what existed and
    committed, then the signature landed with its city. Now the signer waits for the switch."""
    stale = Petition.objects.select_related("campaign").get(pk=live.petition.pk)
    done = threading.Event()

    def sign() -> None:
        try:
            services.signature_create(
                petition=stale,
                name="Olga Petrova",
                email="olga@example.org",
                country="DE",
                city="Berlin",
                display=Signature.Display.FULL_NAME,
            )
            done.set()
        finally:
            connection.close()

    with transaction.atomic():
        security.campaign_high_security_on(
            campaign=live.campaign, organization=live.orgs[1], user=live.admins[1]
        )
        signer = threading.Thread(target=sign)
        signer.start()
        waited = not done.wait(timeout=2)  # the switch holds the campaign row
    signer.join(timeout=30)
    assert waited and done.is_set()
    signature = Signature.objects.get()
    assert signature.city == "" and signature.display == Signature.Display.ANONYMOUS

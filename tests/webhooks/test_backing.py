"""Only organizations that may hear about a person do: members whose endpoint still has an
admin behind it (the rule of API tokens), and, for withdrawal and erasure notices, only those
that were sent the person in the first place."""

from __future__ import annotations

import pytest

from campaigns import services as campaign_services
from campaigns.signing import token_make
from members import services as member_services
from members.models import Membership, Organization
from privacy import services as privacy_services
from tests.campaigns.conftest import LiveCampaign
from tests.factories import make_admin
from tests.webhooks.conftest import Receiver, add_endpoint, relay
from tests.webhooks.test_delivery import ALL, _confirm, _sign
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def _suspend(organization: Organization) -> None:
    # What an adopted suspension decision does (members.services._decision_apply).
    organization.status = Organization.Status.SUSPENDED
    organization.save(update_fields=["status"])


def _admin_leaves(live: LiveCampaign) -> None:
    a = live.orgs[0]
    make_admin(a)  # someone stays admin, so the removal is allowed
    membership = Membership.objects.get(user=live.admins[0], organization=a)
    member_services.membership_remove(membership=membership)


@pytest.mark.parametrize("cut_off", ["suspended", "admin_leaves"])
def test_a_new_confirmation_queues_nothing_for_an_endpoint_nobody_backs(
    live: LiveCampaign, receiver: Receiver, cut_off: str
) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    if cut_off == "admin_leaves":
        _admin_leaves(live)
    else:
        _suspend(a)

    signature = _confirm(_sign(live, "olga@example.org", consents=[a]))
    campaign_services.signature_withdraw(token=token_make(signature.pk, "withdraw"))
    relay()

    assert not Delivery.objects.filter(endpoint=endpoint).exists()
    assert not receiver.received


@pytest.mark.parametrize("cut_off", ["suspended", "admin_leaves"])
def test_a_queued_delivery_is_not_sent_once_nobody_backs_the_endpoint(
    live: LiveCampaign, receiver: Receiver, cut_off: str
) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    _confirm(_sign(live, "olga@example.org", consents=[a]))
    queued = Delivery.objects.get(endpoint=endpoint)
    assert "olga@example.org" in queued.payload
    if cut_off == "admin_leaves":
        _admin_leaves(live)
    else:
        _suspend(a)

    relay()

    assert not receiver.received
    queued.refresh_from_db()
    assert (queued.status, queued.payload) == (Delivery.Status.CANCELLED, "")
    # Replaying it is impossible too: its personal data is gone.
    assert queued.attempts == 1 and queued.delivered_at is None


@pytest.mark.parametrize("leaves_by", ["withdraw", "erase"])
def test_notices_go_only_to_organizations_that_were_sent_the_person(
    live: LiveCampaign, receiver: Receiver, leaves_by: str
) -> None:
    a = live.orgs[0]
    live.outsider_joins()
    add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    add_endpoint(live.outsider, live.outsider_admin, receiver.url("/c"), ALL)
    signature = _sign(live, "olga@example.org", consents=[a, live.outsider])
    campaign_services.cosponsor_withdraw(
        campaign=live.campaign, organization=live.outsider, user=live.outsider_admin
    )
    _confirm(signature)  # the outsider left before: it gets nothing
    relay()
    assert [r.json["type"] for r in receiver.at("/a")] == ["signature.confirmed"]
    assert not receiver.at("/c")

    if leaves_by == "withdraw":
        campaign_services.signature_withdraw(token=token_make(signature.pk, "withdraw"))
    else:
        privacy_services.signer_erase(email="olga@example.org")
    relay()

    notice = "person.withdrawn" if leaves_by == "withdraw" else "person.erased"
    assert [r.json["type"] for r in receiver.at("/a")] == ["signature.confirmed", notice]
    assert not receiver.at("/c")  # it never had her address: telling it now would give it


def test_notices_skip_an_organization_whose_endpoint_came_after_the_confirmation(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a = live.orgs[0]
    signature = _confirm(_sign(live, "olga@example.org", consents=[a]))
    add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)

    campaign_services.signature_withdraw(token=token_make(signature.pk, "withdraw"))
    relay()

    assert not receiver.received

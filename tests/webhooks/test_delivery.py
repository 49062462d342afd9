"""Events reach organizations' endpoints: signed, only for consenting supporters, retried."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.conf import LazySettings
from django.utils import timezone
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

from campaigns import events
from campaigns import services as campaign_services
from campaigns.models import OutcomeEvent, Signature
from campaigns.signing import token_make
from members.models import Organization
from outbox.models import Email
from privacy import services as privacy_services
from tests.campaigns.conftest import LiveCampaign
from tests.webhooks.conftest import Receiver, VerificationError, add_endpoint, relay, verify
from webhooks import services
from webhooks.models import Delivery, Endpoint
from webhooks.tasks import webhooks_purge

pytestmark = pytest.mark.django_db

ALL = list(events.EVENTS)


def _sign(live: LiveCampaign, email: str, consents: list[Organization]) -> Signature:
    signature = campaign_services.signature_create(
        petition=live.petition,
        name="Olga Smirnova",
        email=email,
        country="DE",
        city="Berlin",
        consents=consents,
    )
    assert signature is not None
    return signature


def _confirm(signature: Signature) -> Signature:
    return campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))


def _move_clock(endpoint: Endpoint) -> None:
    """Make every waiting retry of the endpoint due now (what the passing of time would do)."""
    Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.QUEUED).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_consenting_signer_reaches_only_that_organization_then_erasure_follows(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a, b = live.orgs
    endpoint_a, secret_a = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    add_endpoint(b, live.admins[1], receiver.url("/b"), ALL)

    signature = _sign(live, "olga@example.org", consents=[a])
    assert relay() == 0  # nothing before the signer confirms
    _confirm(signature)
    relay()
    relay()  # a second run sends nothing again

    [confirmed] = receiver.at("/a")
    body = verify(secret_a, confirmed)
    assert body["type"] == "signature.confirmed"
    assert body["id"] == confirmed.headers["webhook-id"]  # the idempotency key, in both
    assert body["data"]["person"]["email"] == "olga@example.org"
    assert body["data"]["person"]["name"] == "Olga Smirnova"
    assert body["data"]["signature"]["petition"] == live.petition.slug
    assert not receiver.at("/b")  # B co-sponsors, but Olga did not allow B to contact her
    with pytest.raises(VerificationError):
        verify(services.signing.secret_generate(), confirmed)  # another secret does not verify

    privacy_services.signer_erase(email="olga@example.org")
    relay()

    erased = receiver.at("/a")[1]
    body = verify(secret_a, erased)
    assert body["type"] == "person.erased"
    assert body["data"]["person"]["emails"] == ["olga@example.org"]
    assert body["data"]["signatures"] == [signature.pk]
    assert not receiver.at("/b")
    assert len(receiver.received) == 2
    # What we keep of both deliveries no longer holds her data.
    assert set(Delivery.objects.filter(endpoint=endpoint_a).values_list("payload", flat=True)) == {
        ""
    }


def test_receiver_answering_500_then_200_gets_the_event_once_after_a_retry(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a = live.orgs[0]
    endpoint, secret = add_endpoint(a, live.admins[0], receiver.url("/flaky"), ALL)
    receiver.scripts["/flaky"] = [500, 200]
    _confirm(_sign(live, "olga@example.org", consents=[a]))

    relay()
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("queued", 1, 500)
    assert delivery.next_attempt_at > timezone.now()  # backoff: not before its time
    assert relay() == 0

    _move_clock(endpoint)
    relay()
    relay()

    first, second = receiver.at("/flaky")
    assert (first.answered, second.answered) == (500, 200)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # the same event
    assert verify(secret, second)["type"] == "signature.confirmed"
    assert len([r for r in receiver.received if r.answered == 200]) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 2, "")


def test_a_redirect_is_a_failure_and_is_not_followed(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/moved"), ALL)
    receiver.scripts["/moved"] = [302]
    _confirm(_sign(live, "olga@example.org", consents=[a]))

    relay()

    assert [r.path for r in receiver.received] == ["/moved"]  # /redirected was never asked
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.last_status_code == 302
    assert "not followed" in delivery.last_error


def test_sealed_personal_data_opens_only_with_the_organizations_key(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a = live.orgs[0]
    key = PrivateKey.generate()
    a.export_public_key = base64.b64encode(bytes(key.public_key)).decode()
    a.save(update_fields=["export_public_key"])
    _endpoint, secret = add_endpoint(
        a, live.admins[0], receiver.url("/sealed"), ALL, seal_personal_data=True
    )
    _confirm(_sign(live, "olga@example.org", consents=[a]))

    relay()

    [received] = receiver.at("/sealed")
    assert b"olga@example.org" not in received.body
    assert b"Olga" not in received.body
    sealed = base64.b64decode(verify(secret, received)["data"]["person"]["sealed"])
    person = json.loads(SealedBox(key).decrypt(sealed))
    assert (person["email"], person["name"], person["city"]) == (
        "olga@example.org",
        "Olga Smirnova",
        "Berlin",
    )
    with pytest.raises(CryptoError):
        SealedBox(PrivateKey.generate()).decrypt(sealed)


def test_sealing_without_a_registered_key_is_refused(
    live: LiveCampaign, receiver: Receiver
) -> None:
    with pytest.raises(services.WebhookError, match="public key"):
        add_endpoint(live.orgs[0], live.admins[0], receiver.url("/x"), ALL, seal_personal_data=True)
    assert not Endpoint.objects.exists()


def test_during_rotation_both_secrets_sign(live: LiveCampaign, receiver: Receiver) -> None:
    a = live.orgs[0]
    endpoint, old = add_endpoint(a, live.admins[0], receiver.url("/rot"), ALL)
    new = services.endpoint_rotate_secret(endpoint=endpoint)
    _confirm(_sign(live, "olga@example.org", consents=[a]))

    relay()

    [received] = receiver.at("/rot")
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verify(old, received) == verify(new, received)
    # After the overlap only the new secret signs.
    Endpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    Delivery.objects.filter(endpoint=endpoint).update(status=Delivery.Status.FAILED)
    services.delivery_replay(delivery=Delivery.objects.get(endpoint=endpoint))
    relay()
    replayed = receiver.at("/rot")[1]
    assert replayed.headers["webhook-id"] == received.headers["webhook-id"]
    verify(new, replayed)
    with pytest.raises(VerificationError):
        verify(old, replayed)


def test_withdrawal_reaches_the_consenting_organization(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a, b = live.orgs
    _endpoint, secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    add_endpoint(b, live.admins[1], receiver.url("/b"), ALL)
    signature = _confirm(_sign(live, "olga@example.org", consents=[a]))
    relay()

    campaign_services.signature_withdraw(token=token_make(signature.pk, "withdraw"))
    relay()

    body = verify(secret, receiver.at("/a")[1])
    assert body["type"] == "person.withdrawn"
    assert body["data"]["signature"]["id"] == signature.pk
    assert body["data"]["person"] == {"email": "olga@example.org"}
    assert not receiver.at("/b")


def test_withdrawal_before_delivery_cancels_the_undelivered_confirmation(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a = live.orgs[0]
    endpoint, secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    signature = _confirm(_sign(live, "olga@example.org", consents=[a]))

    campaign_services.signature_withdraw(token=token_make(signature.pk, "withdraw"))
    relay()

    assert [verify(secret, r)["type"] for r in receiver.at("/a")] == ["person.withdrawn"]
    cancelled = Delivery.objects.get(endpoint=endpoint, event_type="signature.confirmed")
    assert (cancelled.status, cancelled.payload) == ("cancelled", "")


def test_pending_signature_withdrawn_tells_nobody(live: LiveCampaign, receiver: Receiver) -> None:
    a = live.orgs[0]
    add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    signature = _sign(live, "olga@example.org", consents=[a])
    campaign_services.signature_withdraw(token=token_make(signature.pk, "withdraw"))
    relay()
    assert not receiver.received


def test_campaign_events_reach_cosponsors_only(live: LiveCampaign, receiver: Receiver) -> None:
    a, b = live.orgs
    add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    add_endpoint(b, live.admins[1], receiver.url("/b"), [events.OUTCOME_RECORDED])
    add_endpoint(live.outsider, live.outsider_admin, receiver.url("/c"), ALL)

    campaign_services.outcome_record(
        campaign=live.campaign,
        organization=a,
        user=live.admins[0],
        kind=OutcomeEvent.Kind.MEETING,
        date=timezone.localdate(),
        description_en="Met the Commission.",
    )
    campaign_services.campaign_close(
        campaign=live.campaign,
        organization=b,
        user=live.admins[1],
        result="won",
        result_summary="The banks gave in.",
    )
    relay()

    types_a = sorted(r.json["type"] for r in receiver.at("/a"))
    assert types_a == ["campaign.status_changed", "outcome.recorded", "outcome.recorded"]
    status = next(r.json for r in receiver.at("/a") if r.json["type"] == "campaign.status_changed")
    assert status["data"]["campaign"]["status"] == "closed"
    assert status["data"]["campaign"]["result"] == "won"
    assert sorted(r.json["type"] for r in receiver.at("/b")) == ["outcome.recorded"] * 2
    assert not receiver.at("/c")  # not a co-sponsor


def test_endpoint_switched_off_after_repeated_failure_and_admins_mailed(
    live: LiveCampaign, receiver: Receiver, settings: LazySettings
) -> None:
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/down"), ALL)
    receiver.scripts["/down"] = [503]
    _confirm(_sign(live, "olga@example.org", consents=[a]))

    for _attempt in range(5):
        relay()
        _move_clock(endpoint)

    assert len(receiver.at("/down")) == 3  # nothing after it was switched off
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "3 failed attempts" in endpoint.disabled_reason
    mail = Email.objects.get(kind="webhooks.endpoint_disabled")
    assert mail.to == live.admins[0].email
    assert endpoint.url in mail.body_text

    # Switched on again, the held event goes out with a fresh day of retries.
    receiver.scripts["/down"] = [200]
    services.endpoint_enable(endpoint=endpoint)
    relay()
    assert receiver.at("/down")[-1].answered == 200
    assert Delivery.objects.get(endpoint=endpoint).status == Delivery.Status.DELIVERED


def test_410_gone_switches_the_endpoint_off_at_once(live: LiveCampaign, receiver: Receiver) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/gone"), ALL)
    receiver.scripts["/gone"] = [410]
    _confirm(_sign(live, "olga@example.org", consents=[a]))
    relay()
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert Email.objects.filter(kind="webhooks.endpoint_disabled").count() == 1


def test_retries_stop_after_a_day(live: LiveCampaign, receiver: Receiver) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/down"), ALL)
    receiver.scripts["/down"] = [500]
    _confirm(_sign(live, "olga@example.org", consents=[a]))
    relay()
    # A day has passed since the event: the next failure is the last.
    Delivery.objects.filter(endpoint=endpoint).update(expires_at=timezone.now())
    _move_clock(endpoint)
    relay()
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    _move_clock(endpoint)
    assert relay() == 0


def test_a_send_task_run_twice_sends_once(live: LiveCampaign, receiver: Receiver) -> None:
    from webhooks.tasks import webhook_send

    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    _confirm(_sign(live, "olga@example.org", consents=[a]))
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert webhook_send(delivery.pk) == "delivered"
    assert webhook_send(delivery.pk) == "skipped"
    assert len(receiver.at("/a")) == 1


def test_old_bodies_are_emptied(live: LiveCampaign, receiver: Receiver) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    _confirm(_sign(live, "olga@example.org", consents=[a]))
    relay()
    assert webhooks_purge() == 0
    Delivery.objects.filter(endpoint=endpoint).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    assert webhooks_purge() == 1
    assert Delivery.objects.get(endpoint=endpoint).payload == ""


def test_sealing_endpoint_whose_key_was_removed_sends_nothing_personal(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a = live.orgs[0]
    a.export_public_key = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
    a.save(update_fields=["export_public_key"])
    _endpoint, secret = add_endpoint(
        a, live.admins[0], receiver.url("/sealed"), ALL, seal_personal_data=True
    )
    a.export_public_key = ""  # the admin removed the key afterwards
    a.save(update_fields=["export_public_key"])
    _confirm(_sign(live, "olga@example.org", consents=[a]))

    relay()

    [received] = receiver.at("/sealed")
    assert verify(secret, received)["data"]["person"] == {"withheld": True}
    assert b"olga" not in received.body.lower()


def test_erasure_sends_one_notice_per_endpoint_with_every_signature_of_the_mailbox(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a, b = live.orgs
    second = campaign_services.petition_create(
        campaign=live.campaign,
        organization=a,
        user=live.admins[0],
        title_en="A second petition",
        text_en="More to ask.",
        addressed_to="European Parliament",
    )
    _endpoint, secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    first = _confirm(_sign(live, "Olga.Smirnova+x@gmail.com", consents=[a]))
    other = campaign_services.signature_create(
        petition=second, name="Olga", email="olgasmirnova@googlemail.com", country="DE",
        consents=[a, b],
    )  # fmt: skip
    assert other is not None
    _confirm(other)
    relay()

    privacy_services.signer_erase(email="olgasmirnova@gmail.com")
    relay()

    notices = [verify(secret, r) for r in receiver.at("/a") if r.json["type"] == "person.erased"]
    assert len(notices) == 1
    assert notices[0]["data"]["signatures"] == sorted([first.pk, other.pk])
    assert notices[0]["data"]["person"]["emails"] == sorted(
        ["Olga.Smirnova+x@gmail.com", "olgasmirnova@googlemail.com"]
    )


def test_events_held_for_a_switched_off_endpoint_are_given_up_after_the_retention(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    Endpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    _confirm(_sign(live, "olga@example.org", consents=[a]))
    assert webhooks_purge() == 0  # held, body kept, while it is recent
    Delivery.objects.filter(endpoint=endpoint).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    assert webhooks_purge() == 1
    held = Delivery.objects.get(endpoint=endpoint)
    assert (held.status, held.payload) == ("cancelled", "")

"""Registering endpoints: admins only, the secret shown once, and never our own network."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse

from campaigns import events
from campaigns import services as campaign_services
from campaigns.signing import token_make
from tests.campaigns.conftest import LiveCampaign
from tests.webhooks.conftest import Receiver, add_endpoint, relay, verify
from webhooks import services, transport
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

ALL = list(events.EVENTS)

# Each of these resolves (as an IP literal, or through /etc/hosts for localhost) to an address
# inside our own network or a cloud's metadata service.
INTERNAL = [
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://10.0.0.7/hook",
    "https://192.168.1.1/hook",
    "https://172.16.0.1/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook",
    "https://[::ffff:10.0.0.7]/hook",
    "https://[fe80::1]/hook",
    "https://100.64.0.1/hook",
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://240.0.0.1/hook",
    "https://[2002:7f00:1::1]/hook",  # 6to4 wrapping 127.0.0.1
    "https://[2002:a9fe:a9fe::1]/hook",  # 6to4 wrapping the metadata service
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",  # Teredo
    "https://[fec0::1]/hook",  # site-local
]


@pytest.fixture
def production(settings: LazySettings) -> None:
    settings.WEBHOOKS_ALLOW_LOOPBACK = False


def _form(url: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, "events": [events.SIGNATURE_CONFIRMED], **extra}


def _admin_client(live: LiveCampaign) -> Client:
    client = Client()
    client.force_login(live.admins[0])
    return client


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_address_is_refused_at_registration(
    live: LiveCampaign, production: None, url: str
) -> None:
    response = _admin_client(live).post(
        reverse("webhooks:endpoints", kwargs={"org": live.orgs[0].slug}), _form(url)
    )
    assert response.status_code == 400
    assert "Webhooks go only to public internet addresses" in response.content.decode()
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://93.184.216.34/hook", "must start with https://"),
        ("ftp://93.184.216.34/hook", "must start with https://"),
        ("https://user:pw@93.184.216.34/hook", "user name or password"),
        ("https://no-such-host.invalid/hook", "could not be resolved"),
    ],
)
def test_other_bad_addresses_are_refused(
    live: LiveCampaign, production: None, url: str, message: str
) -> None:
    response = _admin_client(live).post(
        reverse("webhooks:endpoints", kwargs={"org": live.orgs[0].slug}), _form(url)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Endpoint.objects.exists()


def test_a_public_https_address_is_accepted_and_its_secret_shown_once(
    live: LiveCampaign, production: None
) -> None:
    client = _admin_client(live)
    response = client.post(
        reverse("webhooks:endpoints", kwargs={"org": live.orgs[0].slug}),
        _form("https://93.184.216.34/hooks/coalition", description="Our CRM"),
    )
    assert response.status_code == 200
    endpoint = Endpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    page = client.get(
        reverse("webhooks:endpoint", kwargs={"org": live.orgs[0].slug, "pk": endpoint.pk})
    )
    assert page.status_code == 200
    assert endpoint.secret not in page.content.decode()


def test_a_loopback_receiver_registered_in_development_is_refused_at_send_time_in_production(
    live: LiveCampaign, receiver: Receiver, settings: LazySettings
) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    settings.WEBHOOKS_ALLOW_LOOPBACK = False  # the same database, now in production mode
    signature = campaign_services.signature_create(
        petition=live.petition, name="Olga", email="olga@example.org", country="DE", consents=[a]
    )
    assert signature is not None
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))

    relay()

    assert not receiver.received
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.last_status_code is None
    assert "public internet addresses" in delivery.last_error


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """Resolve the given names to the given addresses (what an attacker's DNS server would
    answer), everything else as usual. Returns the log of names asked for."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host in answers:
            asked.append(host)
            address = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_dns_rebinding_to_an_internal_address_is_refused_at_send_time(
    live: LiveCampaign, production: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = live.orgs[0]
    # Public when it is registered, the metadata service when we come to send.
    _fake_dns(monkeypatch, {"crm.rebind.example": ["93.184.216.34", "169.254.169.254"]})
    endpoint, _secret = add_endpoint(a, live.admins[0], "https://crm.rebind.example/hook", ALL)
    signature = campaign_services.signature_create(
        petition=live.petition, name="Olga", email="olga@example.org", country="DE", consents=[a]
    )
    assert signature is not None
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))

    relay()

    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.last_status_code is None
    assert "public internet addresses" in delivery.last_error


def test_the_request_goes_to_the_address_that_was_checked(
    live: LiveCampaign, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name that answers a checked address first and another one after (DNS rebinding) still
    reaches the checked one: we connect to the address, and send the name only as Host."""
    a = live.orgs[0]
    asked = _fake_dns(monkeypatch, {"crm.pinned.example": ["127.0.0.1"]})
    url = f"http://crm.pinned.example:{receiver.port}/a"
    endpoint, secret = add_endpoint(a, live.admins[0], url, ALL)
    signature = campaign_services.signature_create(
        petition=live.petition, name="Olga", email="olga@example.org", country="DE", consents=[a]
    )
    assert signature is not None
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    # From now on the name points somewhere no connection could succeed.
    _fake_dns(monkeypatch, {"crm.pinned.example": ["127.0.0.1", "192.0.2.1"]})

    relay()

    [received] = receiver.at("/a")
    assert received.headers["host"] == f"crm.pinned.example:{receiver.port}"
    assert verify(secret, received)["type"] == "signature.confirmed"
    assert asked  # the name was resolved by us, and checked
    assert Delivery.objects.get(endpoint=endpoint).status == Delivery.Status.DELIVERED


def test_target_check_needs_every_address_of_a_name_to_be_public(
    production: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = socket.getaddrinfo

    def two_answers(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "mixed.example":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    with pytest.raises(transport.TargetRefused):
        transport.target_check("https://mixed.example/hook")
    target = transport.target_check("https://93.184.216.34:8443/x?y=1")
    assert (target.address, target.port, target.path) == ("93.184.216.34", 8443, "/x?y=1")


def test_admin_replays_a_delivered_event_with_the_same_id(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a = live.orgs[0]
    endpoint, secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    signature = campaign_services.signature_create(
        petition=live.petition, name="Olga", email="olga@example.org", country="DE", consents=[a]
    )
    assert signature is not None
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    relay()
    delivery = Delivery.objects.get(endpoint=endpoint)
    client = _admin_client(live)
    log = client.get(reverse("webhooks:endpoint", kwargs={"org": a.slug, "pk": endpoint.pk}))
    assert delivery.event_id in log.content.decode()
    assert "olga@example.org" not in log.content.decode()  # the log never shows bodies

    response = client.post(
        reverse(
            "webhooks:delivery_replay",
            kwargs={"org": a.slug, "pk": endpoint.pk, "delivery": delivery.pk},
        )
    )
    assert response.status_code == 302
    relay()

    first, again = receiver.at("/a")
    assert again.headers["webhook-id"] == first.headers["webhook-id"] == delivery.event_id
    assert verify(secret, again) == verify(secret, first)


def test_another_organizations_admin_cannot_replay_or_read_the_log(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    delivery = services._enqueue(
        [endpoint], events.CAMPAIGN_STATUS_CHANGED, {"campaign": {"slug": "x"}}
    )[0]
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.DELIVERED)
    client = Client()
    client.force_login(live.admins[1])  # B's admin: co-sponsors with A, but not A's endpoint
    b = live.orgs[1]
    for org in (a.slug, b.slug):
        kwargs = {"org": org, "pk": endpoint.pk}
        assert client.get(reverse("webhooks:endpoint", kwargs=kwargs)).status_code in {403, 404}
        replay = reverse("webhooks:delivery_replay", kwargs={**kwargs, "delivery": delivery.pk})
        assert client.post(replay).status_code in {403, 404}
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.DELIVERED


def test_changing_the_url_to_an_internal_address_is_refused(
    live: LiveCampaign, production: None
) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], "https://93.184.216.34/hook", ALL)
    response = _admin_client(live).post(
        reverse("webhooks:endpoint", kwargs={"org": a.slug, "pk": endpoint.pk}),
        _form("https://169.254.169.254/latest/meta-data/"),
    )
    assert response.status_code == 400
    assert "public internet addresses" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == "https://93.184.216.34/hook"
    assert endpoint.events == ALL


def test_the_pages_are_served_in_russian(
    live: LiveCampaign, production: None, settings: LazySettings
) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], "https://93.184.216.34/hook", ALL)
    client = _admin_client(live)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    listing = client.get(reverse("webhooks:endpoints", kwargs={"org": a.slug})).content.decode()
    detail = client.get(
        reverse("webhooks:endpoint", kwargs={"org": a.slug, "pk": endpoint.pk})
    ).content.decode()
    assert f"Вебхуки организации «{a.name}»" in listing
    assert "Создать новый секрет" in detail


def test_deleting_an_endpoint_deletes_its_log(live: LiveCampaign, receiver: Receiver) -> None:
    a = live.orgs[0]
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    services._enqueue([endpoint], events.CAMPAIGN_STATUS_CHANGED, {"campaign": {"slug": "x"}})
    response = _admin_client(live).post(
        reverse("webhooks:endpoint_delete", kwargs={"org": a.slug, "pk": endpoint.pk})
    )
    assert response.status_code == 302
    assert not Endpoint.objects.exists()
    assert not Delivery.objects.exists()
    assert relay() == 0

"""The mail provider's webhooks (bounces, complaints, inbound replies; coalition/urls.py) are
mounted only for the provider in use and only with ANYMAIL_WEBHOOK_SECRET; then a request
without the credentials is refused and changes nothing."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, clear_url_caches, get_resolver, reverse

import coalition.urls
from outbox.models import Email, Suppression
from outreach.models import Contact, Letter, Reply

pytestmark = pytest.mark.django_db


def _provider_routes() -> list[str]:
    names = []
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "anymail":
            names += [f"anymail:{p.name}" for p in entry.url_patterns if isinstance(p, URLPattern)]
    return names


@pytest.fixture
def mounted(settings) -> Iterator[list[str]]:
    """The URLconf as deployed with Postmark and a webhook secret."""
    settings.ANYMAIL = {"WEBHOOK_SECRET": "provider:webhook-secret"}
    settings.ANYMAIL_PROVIDER = "postmark"
    importlib.reload(coalition.urls)
    clear_url_caches()
    try:
        yield _provider_routes()
    finally:
        settings.ANYMAIL, settings.ANYMAIL_PROVIDER = {}, ""
        importlib.reload(coalition.urls)
        clear_url_caches()


def _rows() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Email, Suppression, Contact, Letter, Reply))


def test_without_a_secret_no_provider_webhook_is_mounted():
    assert _provider_routes() == []
    response = Client().post(
        "/anymail/postmark/inbound/", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 404


def test_only_the_providers_own_webhooks_are_mounted(mounted):
    assert sorted(mounted) == [
        "anymail:postmark_inbound_webhook",
        "anymail:postmark_tracking_webhook",
    ]


@pytest.mark.parametrize(
    "route", ["anymail:postmark_inbound_webhook", "anymail:postmark_tracking_webhook"]
)
def test_a_webhook_without_credentials_is_refused_and_changes_nothing(mounted, route):
    assert route in mounted
    before = _rows()
    client = Client(raise_request_exception=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anymail warns about the refused request
        response = client.post(reverse(route), data=b"{}", content_type="application/json")
    assert response.status_code in {400, 403}
    assert _rows() == before

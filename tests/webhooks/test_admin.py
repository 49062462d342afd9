"""Staff see webhook endpoints and deliveries, read-only, without a secret or a signer's data."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from campaigns import events
from campaigns import services as campaign_services
from campaigns.signing import token_make
from tests.campaigns.conftest import LiveCampaign
from tests.factories import make_staff, sign_in
from tests.webhooks.conftest import Receiver, add_endpoint
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db


def test_staff_pages_show_no_secret_and_no_body(live: LiveCampaign, receiver: Receiver) -> None:
    a = live.orgs[0]
    endpoint, secret = add_endpoint(a, live.admins[0], receiver.url("/a"), list(events.EVENTS))
    signature = campaign_services.signature_create(
        petition=live.petition,
        name="Zinaida Tainova",
        email="zinaida.tainova@example.org",
        country="DE",
        consents=[a],
    )
    assert signature is not None
    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    delivery = Delivery.objects.get(endpoint=endpoint)
    client = Client()
    sign_in(client, *make_staff())

    pages = [
        reverse("admin:webhooks_endpoint_changelist"),
        reverse("admin:webhooks_endpoint_change", args=[endpoint.pk]),
        reverse("admin:webhooks_delivery_changelist"),
        reverse("admin:webhooks_delivery_change", args=[delivery.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert delivery.event_id in html or endpoint.url in html
        for hidden in (secret, secret.removeprefix("whsec_"), "Zinaida", "zinaida.tainova"):
            assert hidden not in html, url
    # Read-only: staff cannot change where an organization's supporters' data goes.
    change = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
    client.post(change, {"url": "https://attacker.example/"})
    assert Endpoint.objects.get().url == endpoint.url

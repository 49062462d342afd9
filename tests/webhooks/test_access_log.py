"""Supporters sent by webhook appear in the export log that co-sponsors and staff watch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from campaigns import services as campaign_services
from campaigns.models import SupporterExport
from tests.campaigns.conftest import LiveCampaign
from tests.webhooks.conftest import Receiver, add_endpoint, relay
from tests.webhooks.test_delivery import ALL, _confirm, _sign

pytestmark = pytest.mark.django_db


def test_webhook_deliveries_are_logged_per_endpoint_campaign_and_day(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a, b = live.orgs
    endpoint, _secret = add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    receiver.scripts["/b"] = [500]  # refused: nothing was accepted, nothing to log
    add_endpoint(b, live.admins[1], receiver.url("/b"), ALL)
    _confirm(_sign(live, "olga@example.org", consents=[a, b]))
    _confirm(_sign(live, "ivan@example.org", consents=[a]))
    relay()
    relay()

    [row] = SupporterExport.objects.all()
    assert (row.campaign, row.organization, row.exported_by) == (live.campaign, a, live.admins[0])
    assert (row.channel, row.row_count) == (SupporterExport.Channel.WEBHOOK, 2)
    assert row.api_token == f"#{endpoint.pk} 127.0.0.1"

    # The next day starts a new row; the first keeps that day's count.
    SupporterExport.objects.update(exported_at=row.exported_at - timedelta(days=1))
    _confirm(_sign(live, "anna@example.org", consents=[a]))
    relay()
    assert list(
        SupporterExport.objects.order_by("row_count").values_list("row_count", flat=True)
    ) == [1, 2]

    # Co-sponsor B sees that A receives supporters by webhook, and how many.
    client = Client()
    client.force_login(live.admins[1])
    page = client.get(
        reverse("campaigns:manage", kwargs={"org": b.slug, "slug": live.campaign.slug})
    ).content.decode()
    assert f"by webhook to endpoint #{endpoint.pk} 127.0.0.1" in page


def test_campaign_events_are_not_logged_as_supporter_data(
    live: LiveCampaign, receiver: Receiver
) -> None:
    a, b = live.orgs
    add_endpoint(a, live.admins[0], receiver.url("/a"), ALL)
    campaign_services.campaign_close(
        campaign=live.campaign,
        organization=b,
        user=live.admins[1],
        result="won",
        result_summary="The banks gave in.",
    )
    relay()
    assert receiver.at("/a")
    assert not SupporterExport.objects.exists()

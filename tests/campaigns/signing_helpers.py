"""Signing through the API and the page from a chosen address: shared by the abuse tests."""

from __future__ import annotations

import json

from django.urls import reverse

from campaigns import services
from campaigns.signing import token_make

BODY = {"name": "Мария Иванова", "country": "LV", "city": "Riga", "display": "initial"}


def api(client, petition, body, ip="10.0.0.1"):
    return client.post(
        reverse("api:signatures", args=[petition.slug]),
        json.dumps(body),
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


def page(client, petition, body, ip="10.0.0.1"):
    return client.post(reverse("campaigns:petition", args=[petition.slug]), body, REMOTE_ADDR=ip)


def fold():
    while services.signature_counts_fold():
        pass


def open_petitions(live, n):
    """n open petitions of the live campaign (the fixture's own first)."""
    extra = [
        services.petition_create(
            campaign=live.campaign,
            organization=live.orgs[0],
            user=live.admins[0],
            title_en=f"Second ask {i}",
            text_en="We ask again.",
            addressed_to="European Commission",
            goal=100,
        )
        for i in range(n - 1)
    ]
    return [live.petition, *extra]


def supporter_confirmed(petition, *, name, email, consents, country="DE", **fields):
    """A signature made through the sign service and confirmed by its emailed link: a supporter
    whom the export lists for the organizations in ``consents``."""
    signature = services.signature_create(
        petition=petition, name=name, email=email, country=country, consents=consents, **fields
    )
    assert signature is not None  # a new mailbox for this petition
    services.signature_confirm(token=token_make(signature.pk, "confirm"))
    return signature

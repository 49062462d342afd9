from __future__ import annotations

from django.db.models import QuerySet

from members.models import Organization
from webhooks.models import Delivery, Endpoint


def endpoints_of(*, organization: Organization) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(organization=organization)


def deliveries_of(*, endpoint: Endpoint) -> QuerySet[Delivery]:
    """The delivery log, newest first. Never the bodies: they may carry signers' data."""
    return (
        Delivery.objects.filter(endpoint=endpoint).defer("payload").order_by("-created_at", "-pk")
    )

"""Pieces of the public record that other apps' pages include."""

from __future__ import annotations

from typing import Any

from django import template

from campaigns.models import Campaign
from members.models import Organization
from results import selectors

register = template.Library()


@register.inclusion_tag("results/_organization_record.html")
def organization_record(organization: Organization) -> dict[str, Any]:
    return {"record": selectors.organization_record(organization=organization)}


@register.inclusion_tag("results/_timeline.html")
def campaign_timeline(campaign: Campaign) -> dict[str, Any]:
    return {
        "events": selectors.campaign_timeline(campaign=campaign),
        "replies": selectors.campaign_public_replies(campaign=campaign),
        "campaign": campaign,
    }

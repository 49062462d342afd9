"""The public "Updates" section of a campaign page: what was sent, when, by which co-sponsors."""

from __future__ import annotations

from typing import Any

from django import template

from updates import selectors

register = template.Library()


@register.inclusion_tag("updates/_public_updates.html")
def campaign_updates(campaign: Any) -> dict[str, Any]:
    return {"campaign": campaign, "updates": selectors.updates_public(campaign=campaign)}

"""What the API shows of a petition: plain dicts, built from what the selectors return.

Absolute URLs use SITE_URL, as the emails do: the widget runs on co-sponsors' own sites, where a
relative link would point at the wrong host.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from campaigns.models import Campaign, Petition, PetitionCountryCount
from members.models import Organization


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def campaign_brief(campaign: Campaign) -> dict[str, Any]:
    return {"slug": campaign.slug, "title": campaign.title}


def petition_summary(petition: Petition) -> dict[str, Any]:
    return {
        "slug": petition.slug,
        "title": petition.title,
        "campaign": campaign_brief(petition.campaign),
        "goal": petition.goal,
        "confirmed_count": petition.confirmed_count,
        "open": petition.is_open,
        "url": _absolute(petition.get_absolute_url()),
    }


def petition_detail(
    petition: Petition,
    *,
    cosponsors: Iterable[Organization],
    countries: Iterable[PetitionCountryCount],
) -> dict[str, Any]:
    return {
        "slug": petition.slug,
        "title": petition.title,
        "text": petition.text,
        "addressed_to": petition.addressed_to,
        "goal": petition.goal,
        "confirmed_count": petition.confirmed_count,
        "deadline": petition.deadline.isoformat() if petition.deadline else None,
        "open": petition.is_open,
        "url": _absolute(petition.get_absolute_url()),
        "campaign": campaign_brief(petition.campaign),
        "cosponsors": [
            {"slug": o.slug, "name": o.name, "url": _absolute(o.get_absolute_url())}
            for o in cosponsors
        ],
        "countries": [{"country": str(c.country), "count": c.count} for c in countries],
    }

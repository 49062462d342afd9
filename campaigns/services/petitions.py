"""Petitions of a campaign."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from campaigns import page_cache
from campaigns.models import Campaign, Petition
from campaigns.services._common import (
    EDITOR_ROLES,
    CampaignError,
    _require_cosponsor,
    _require_role,
    _unique_slug,
)
from members.models import Organization, User

# --- petitions --------------------------------------------------------------------------------


@transaction.atomic
def petition_create(
    *,
    campaign: Campaign,
    organization: Organization,
    user: User,
    title_en: str = "",
    title_ru: str = "",
    text_en: str = "",
    text_ru: str = "",
    addressed_to: str = "",
    goal: int = 1000,
    deadline: datetime | None = None,
) -> Petition:
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    title = title_en or title_ru
    if not title.strip():
        raise CampaignError(_("Give the petition a title in English or Russian."))
    if not 1 <= goal <= 10_000_000:
        raise CampaignError(_("Set a goal between 1 and 10,000,000 signatures."))
    petition = Petition.objects.create(
        campaign=campaign,
        slug=_unique_slug(Petition, title),
        title_en=title_en,
        title_ru=title_ru,
        text_en=text_en,
        text_ru=text_ru,
        addressed_to=addressed_to,
        goal=goal,
        deadline=deadline,
    )
    page_cache.public_pages_changed(campaign_ids=[campaign.pk])  # the campaign page lists it
    return petition

"""Petitions of a campaign."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

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
    *, campaign: Campaign, organization: Organization, user: User, **fields: Any
) -> Petition:
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    title = fields.get("title_en") or fields.get("title_ru") or ""
    if not title.strip():
        raise CampaignError(_("Give the petition a title in English or Russian."))
    return Petition.objects.create(
        campaign=campaign, slug=_unique_slug(Petition, fields.get("title_en") or title), **fields
    )

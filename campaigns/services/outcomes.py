"""Outcomes: the campaign's public timeline of what it achieved."""

from __future__ import annotations

from datetime import date as date_type
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import events, page_cache
from campaigns.models import Campaign, OutcomeEvent
from campaigns.services._common import (
    EDITOR_ROLES,
    CampaignError,
    CampaignForbidden,
    _require_cosponsor,
    _require_role,
)
from members.models import Organization, User

# --- outcomes: the public timeline ------------------------------------------------------------


def latest_today() -> date_type:
    """The latest date that is "today" anywhere on earth (UTC+14): the server runs on UTC, and
    a co-sponsor in Tbilisi recording today's meeting at 01:00 must not be told it is future."""
    return (timezone.now() + timedelta(hours=14)).date()


def _check_outcome(*, kind: str, date: date_type, evidence_url: str, description: str) -> None:
    if kind not in OutcomeEvent.Kind.values or kind in {
        OutcomeEvent.Kind.MILESTONE,
        OutcomeEvent.Kind.RESULT,
    }:
        raise CampaignError(_("Choose what happened."))
    if date > latest_today() and kind != OutcomeEvent.Kind.MEETING:
        raise CampaignError(_("Only a meeting can be dated in the future."))
    if evidence_url and not evidence_url.lower().startswith(("https://", "http://")):
        raise CampaignError(_("The evidence link must start with https:// or http://."))
    if not description.strip():
        raise CampaignError(_("Describe what happened, in English or Russian."))


@transaction.atomic
def outcome_record(
    *,
    campaign: Campaign,
    organization: Organization | None,
    user: User,
    kind: str,
    date: date_type,
    description_en: str = "",
    description_ru: str = "",
    evidence_url: str = "",
    evidence_file: Any = None,
) -> OutcomeEvent:
    """A co-sponsor (or platform staff, with no organization) records what the campaign achieved."""
    if organization is None:
        if not user.is_staff:
            raise CampaignForbidden(_("Only co-sponsors and platform staff record outcomes."))
    else:
        _require_role(user, organization, EDITOR_ROLES)
        _require_cosponsor(campaign, organization)
    _check_outcome(
        kind=kind, date=date, evidence_url=evidence_url, description=description_en + description_ru
    )
    outcome = OutcomeEvent.objects.create(
        campaign=campaign,
        kind=kind,
        date=date,
        description_en=description_en.strip(),
        description_ru=description_ru.strip(),
        evidence_url=evidence_url,
        evidence_file=evidence_file or "",
        recorded_by=organization,
        recorded_by_user=user,
    )
    events.event_emit(events.OUTCOME_RECORDED, outcome=outcome)
    page_cache.public_pages_changed(campaign_ids=[outcome.campaign_id])  # the timeline
    return outcome


@transaction.atomic
def outcome_update(
    *,
    event: OutcomeEvent,
    user: User,
    kind: str | None = None,
    date: date_type | None = None,
    description_en: str | None = None,
    description_ru: str | None = None,
    evidence_url: str | None = None,
) -> OutcomeEvent:
    """Platform staff correct any recorded event (system events included). None: unchanged."""
    if not user.is_staff:
        raise CampaignForbidden(_("Only platform staff correct recorded outcomes."))
    event = OutcomeEvent.objects.select_for_update().get(pk=event.pk)
    changes = {
        "kind": kind,
        "date": date,
        "description_en": description_en,
        "description_ru": description_ru,
        "evidence_url": evidence_url,
    }
    for field, value in changes.items():
        if value is not None:
            setattr(event, field, value)
    if event.kind not in {OutcomeEvent.Kind.MILESTONE, OutcomeEvent.Kind.RESULT}:
        _check_outcome(
            kind=event.kind,
            date=event.date,
            evidence_url=event.evidence_url,
            description=event.description_en + event.description_ru,
        )
    event.save()
    page_cache.public_pages_changed(campaign_ids=[event.campaign_id])
    return event


def outcome_system(
    *, campaign_id: int, kind: str, description_en: str, description_ru: str = "", link: str = ""
) -> OutcomeEvent:
    """An event the platform records by itself (deliveries, letter waves, replies)."""
    outcome = OutcomeEvent.objects.create(
        campaign_id=campaign_id,
        kind=kind,
        date=timezone.localdate(),
        description_en=description_en,
        description_ru=description_ru,
        link=link,
        system=True,
    )
    events.event_emit(events.OUTCOME_RECORDED, outcome=outcome)
    page_cache.public_pages_changed(campaign_ids=[outcome.campaign_id])  # the timeline
    return outcome

"""Campaigns and their co-sponsors: create, edit, invite, accept, withdraw, go live.

All co-sponsors have the same rights: every check asks "is this an accepted co-sponsor?",
never "who started it?"."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import events, page_cache
from campaigns.models import Campaign, CampaignRevision, CoSponsorship, IssueArea
from campaigns.services._common import (
    ADMIN_ONLY,
    EDITOR_ROLES,
    CampaignConflict,
    CampaignError,
    CampaignForbidden,
    _accepted_count,
    _require_cosponsor,
    _require_role,
    _unique_slug,
)
from members.models import Organization, User
from members.services import organization_language
from outbox.services import email_enqueue_template

# --- campaigns --------------------------------------------------------------------------------

ISSUE_AREAS = [
    ("bank-accounts", "Bank accounts and payments", "Банковские счета и платежи"),
    ("vehicles", "Vehicles and entry rules", "Автомобили и правила въезда"),
    ("visas", "Visas and residence permits", "Визы и виды на жительство"),
    ("documents", "Identity documents", "Документы, удостоверяющие личность"),
    ("other", "Other", "Другое"),
]


def issue_areas_ensure() -> None:
    """The managed list of issue areas (also seeded by migration 0002; safe to repeat)."""
    for position, (slug, name_en, name_ru) in enumerate(ISSUE_AREAS):
        IssueArea.objects.get_or_create(
            slug=slug, defaults={"name_en": name_en, "name_ru": name_ru, "position": position}
        )


@transaction.atomic
def campaign_create(
    *,
    organization: Organization,
    user: User,
    issue_area: IssueArea,
    title_en: str = "",
    title_ru: str = "",
    summary_en: str = "",
    summary_ru: str = "",
    body_en: str = "",
    body_ru: str = "",
    image: File | None = None,
    image_alt: str = "",
) -> Campaign:
    """A member organization starts a campaign; it is its first (equal) co-sponsor."""
    if not organization.is_member:
        raise CampaignForbidden(_("Only coalition members can start campaigns."))
    _require_role(user, organization, EDITOR_ROLES)
    title = title_en or title_ru
    if not title.strip():
        raise CampaignError(_("Give the campaign a title in English or Russian."))
    campaign = Campaign.objects.create(
        slug=_unique_slug(Campaign, title),
        issue_area=issue_area,
        title_en=title_en,
        title_ru=title_ru,
        summary_en=summary_en,
        summary_ru=summary_ru,
        body_en=body_en,
        body_ru=body_ru,
        image=image or "",
        image_alt=image_alt,
    )
    CoSponsorship.objects.create(
        campaign=campaign,
        organization=organization,
        status=CoSponsorship.Status.ACCEPTED,
        responded_at=timezone.now(),
    )
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    organization: Organization,
    user: User,
    issue_area: IssueArea | None = None,
    title_en: str | None = None,
    title_ru: str | None = None,
    summary_en: str | None = None,
    summary_ru: str | None = None,
    body_en: str | None = None,
    body_ru: str | None = None,
    image: File | None = None,
    image_alt: str | None = None,
) -> Campaign:
    """Any co-sponsor edits the text; every edit is kept in the public revision history.

    None (or no new image) leaves a field as it is."""
    changes: dict[str, Any] = {
        "issue_area": issue_area,
        "title_en": title_en,
        "title_ru": title_ru,
        "summary_en": summary_en,
        "summary_ru": summary_ru,
        "body_en": body_en,
        "body_ru": body_ru,
        "image_alt": image_alt,
    }
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == Campaign.Status.CLOSED:
        raise CampaignConflict(_("A closed campaign can no longer be edited."))
    diff: dict[str, list[str]] = {}
    for field, new in changes.items():
        old = getattr(campaign, field)
        if new is not None and old != new:
            diff[field] = [str(old), str(new)]
            setattr(campaign, field, new)
    if image:
        diff["image"] = [str(campaign.image or ""), "(new image)"]
        campaign.image = image
    if not (campaign.title_en.strip() or campaign.title_ru.strip()):
        raise CampaignError(_("Give the campaign a title in English or Russian."))
    if diff:
        campaign.save()
        CampaignRevision.objects.create(
            campaign=campaign, organization=organization, edited_by=user, changes=diff
        )
        page_cache.public_pages_changed(campaign_ids=[campaign.pk])
    return campaign


@transaction.atomic
def cosponsor_invite(
    *, campaign: Campaign, organization: Organization, invitee: Organization, user: User
) -> CoSponsorship:
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    if campaign.status == Campaign.Status.CLOSED:
        raise CampaignConflict(_("This campaign is closed."))
    if not invitee.is_member:
        raise CampaignError(_("Only coalition members can co-sponsor campaigns."))
    existing = CoSponsorship.objects.filter(campaign=campaign, organization=invitee).first()
    if existing is not None and existing.status in {
        CoSponsorship.Status.INVITED,
        CoSponsorship.Status.ACCEPTED,
    }:
        raise CampaignConflict(_("%(name)s is already invited.") % {"name": invitee.name})
    if existing is None:
        cosponsorship = CoSponsorship.objects.create(campaign=campaign, organization=invitee)
    else:
        existing.status, existing.invited_at, existing.responded_at = (
            CoSponsorship.Status.INVITED,
            timezone.now(),
            None,
        )
        existing.save(update_fields=["status", "invited_at", "responded_at"])
        cosponsorship = existing
    if campaign.status == Campaign.Status.DRAFT:
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.GATHERING)
    email_enqueue_template(
        kind="campaigns.cosponsor_invited",
        to=invitee.contact_email,
        template="campaigns/email/cosponsor_invited",
        context={"campaign": campaign, "organization": invitee, "inviter": organization},
        language=organization_language(invitee),
    )
    return cosponsorship


@transaction.atomic
def cosponsor_respond(*, cosponsorship: CoSponsorship, user: User, accept: bool) -> CoSponsorship:
    """The invited organization's admin accepts or declines."""
    _require_role(user, cosponsorship.organization, ADMIN_ONLY)
    cosponsorship = CoSponsorship.objects.select_for_update().get(pk=cosponsorship.pk)
    if cosponsorship.status != CoSponsorship.Status.INVITED:
        raise CampaignConflict(_("This invitation has already been answered."))
    cosponsorship.status = (
        CoSponsorship.Status.ACCEPTED if accept else CoSponsorship.Status.DECLINED
    )
    cosponsorship.responded_at = timezone.now()
    cosponsorship.save(update_fields=["status", "responded_at"])
    campaign = Campaign.objects.select_for_update().get(pk=cosponsorship.campaign_id)
    if (
        accept
        and campaign.status == Campaign.Status.PAUSED
        and _accepted_count(campaign) >= settings.CAMPAIGN_MIN_COSPONSORS
    ):
        campaign.status = Campaign.Status.LIVE
        campaign.save(update_fields=["status"])
        events.event_emit(events.CAMPAIGN_STATUS_CHANGED, campaign=campaign)
    if accept:
        page_cache.public_pages_changed(campaign_ids=[campaign.pk])
    return cosponsorship


@transaction.atomic
def cosponsor_withdraw(*, campaign: Campaign, organization: Organization, user: User) -> Campaign:
    """A co-sponsor leaves. Below the minimum, a live campaign pauses until another joins."""
    _require_role(user, organization, ADMIN_ONLY)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    cosponsorship = CoSponsorship.objects.select_for_update().filter(
        campaign=campaign, organization=organization, status=CoSponsorship.Status.ACCEPTED
    )
    if not cosponsorship.update(status=CoSponsorship.Status.WITHDRAWN, responded_at=timezone.now()):
        raise CampaignConflict(_("Your organization does not co-sponsor this campaign."))
    if (
        campaign.status == Campaign.Status.LIVE
        and _accepted_count(campaign) < settings.CAMPAIGN_MIN_COSPONSORS
    ):
        campaign.status = Campaign.Status.PAUSED
        campaign.save(update_fields=["status"])
        events.event_emit(events.CAMPAIGN_STATUS_CHANGED, campaign=campaign)
    page_cache.public_pages_changed(campaign_ids=[campaign.pk])
    return campaign


@transaction.atomic
def campaign_go_live(*, campaign: Campaign, organization: Organization, user: User) -> Campaign:
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in {
        Campaign.Status.DRAFT,
        Campaign.Status.GATHERING,
        Campaign.Status.PAUSED,
    }:
        raise CampaignConflict(_("This campaign cannot go live from its current state."))
    needed = settings.CAMPAIGN_MIN_COSPONSORS
    if _accepted_count(campaign) < needed:
        raise CampaignConflict(
            _("A campaign goes live only with at least %(n)d co-sponsoring organizations.")
            % {"n": needed}
        )
    campaign.status = Campaign.Status.LIVE
    campaign.went_live_at = campaign.went_live_at or timezone.now()
    campaign.save(update_fields=["status", "went_live_at"])
    events.event_emit(events.CAMPAIGN_STATUS_CHANGED, campaign=campaign)
    page_cache.public_pages_changed(campaign_ids=[campaign.pk])
    return campaign

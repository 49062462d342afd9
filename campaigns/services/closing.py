"""Ending a campaign (a joint act of its co-sponsors) and asking the coalition to endorse it
(a coalition decision)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import events, joint, page_cache
from campaigns.models import Campaign, CampaignEndorsement, JointAct, OutcomeEvent
from campaigns.services._common import (
    ADMIN_ONLY,
    EDITOR_ROLES,
    CampaignConflict,
    CampaignError,
    _require_cosponsor,
    _require_role,
)
from members.models import Decision, Organization, User
from members.services import MembershipError, decision_effect_register, decision_open

CLOSE_ACT = "campaigns.close"


def _check_result(result: str, result_summary: str) -> None:
    if result not in Campaign.Result.values:
        raise CampaignError(_("Choose the campaign's result."))
    if not result_summary.strip():
        raise CampaignError(_("Write a short public summary of the result."))


@transaction.atomic
def campaign_close_propose(
    *, campaign: Campaign, organization: Organization, user: User, result: str, result_summary: str
) -> JointAct:
    """A co-sponsor proposes closing the campaign with a result: a joint act under the
    no-objection rule. The campaign closes only when the others agree, or when the objection
    period passes and none objected (campaigns/joint.py)."""
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    _check_result(result, result_summary)
    if campaign.status == Campaign.Status.CLOSED:
        raise CampaignConflict(_("This campaign is already closed."))
    summary = result_summary.strip()
    try:
        return joint.joint_act_propose(
            campaign=campaign,
            organization=organization,
            user=user,
            kind=CLOSE_ACT,
            rule=JointAct.Rule.NO_OBJECTION,
            payload={"result": result, "result_summary": summary},
            description=lambda: (
                _("Close the campaign for good with the result “%(result)s”: %(summary)s")
                % {"result": Campaign.Result(result).label, "summary": summary}
            ),
        )
    except joint.JointActError as exc:
        raise CampaignError(str(exc)) from exc


def _close_effect(act: JointAct) -> None:
    try:
        _campaign_close_apply(
            campaign=act.campaign,
            organization=act.proposed_by,
            user=act.proposed_by_user,
            result=act.payload["result"],
            result_summary=act.payload["result_summary"],
        )
    except CampaignError as exc:
        raise joint.JointActError(str(exc)) from exc


@transaction.atomic
def campaign_close(
    *, campaign: Campaign, organization: Organization, user: User, result: str, result_summary: str
) -> Campaign:
    """Close at once, without asking the other co-sponsors. No view or API calls this: people
    close through ``campaign_close_propose``; tests use it to arrange a closed campaign."""
    _require_role(user, organization, EDITOR_ROLES)
    _require_cosponsor(campaign, organization)
    return _campaign_close_apply(
        campaign=campaign,
        organization=organization,
        user=user,
        result=result,
        result_summary=result_summary,
    )


def _campaign_close_apply(
    *,
    campaign: Campaign,
    organization: Organization,
    user: User | None,
    result: str,
    result_summary: str,
) -> Campaign:
    _check_result(result, result_summary)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == Campaign.Status.CLOSED:
        raise CampaignConflict(_("This campaign is already closed."))
    campaign.status = Campaign.Status.CLOSED
    campaign.result = result
    campaign.result_summary = result_summary.strip()
    campaign.closed_at = timezone.now()
    campaign.save(update_fields=["status", "result", "result_summary", "closed_at"])
    events.event_emit(events.CAMPAIGN_STATUS_CHANGED, campaign=campaign)
    outcome = OutcomeEvent.objects.create(
        campaign=campaign,
        kind=OutcomeEvent.Kind.RESULT,
        date=timezone.localdate(),
        description_en=f"{Campaign.Result(result).label}: {campaign.result_summary}"[:500],
        recorded_by=organization,
        recorded_by_user=user,
    )
    events.event_emit(events.OUTCOME_RECORDED, outcome=outcome)
    page_cache.public_pages_changed(campaign_ids=[campaign.pk])
    return campaign


@transaction.atomic
def campaign_request_endorsement(
    *, campaign: Campaign, organization: Organization, user: User
) -> Decision:
    """Co-sponsors ask the whole coalition to endorse the campaign (one org, one vote)."""
    _require_role(user, organization, ADMIN_ONLY)
    _require_cosponsor(campaign, organization)
    if campaign.endorsed_at is not None:
        raise CampaignConflict(_("The coalition has already endorsed this campaign."))
    if CampaignEndorsement.objects.filter(
        campaign=campaign, decision__status=Decision.Status.OPEN
    ).exists():
        raise CampaignConflict(_("An endorsement vote on this campaign is already open."))
    try:
        decision = decision_open(
            kind=Decision.Kind.ENDORSE_CAMPAIGN,
            title=_("Endorse the campaign “%(title)s”") % {"title": campaign.title},
            description=campaign.summary,
            proposed_by=organization,
        )
    except MembershipError as exc:
        raise CampaignError(str(exc)) from exc
    CampaignEndorsement.objects.create(campaign=campaign, decision=decision)
    return decision


def _endorsement_effect(decision: Decision) -> None:
    if decision.outcome != Decision.Outcome.ADOPTED:
        return
    link = CampaignEndorsement.objects.filter(decision=decision).select_related("campaign").first()
    if link is not None:
        Campaign.objects.filter(pk=link.campaign_id, endorsed_at__isnull=True).update(
            endorsed_at=decision.closed_at
        )
        page_cache.public_pages_changed(campaign_ids=[link.campaign_id])


def register_decision_effects() -> None:
    decision_effect_register(kind=Decision.Kind.ENDORSE_CAMPAIGN, effect=_endorsement_effect)
    joint.joint_act_kind_register(kind=CLOSE_ACT, effect=_close_effect)

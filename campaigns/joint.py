"""Joint acts of co-sponsors: one proposes, the act takes effect only with the others' consent.

The only writers for JointAct and JointActAnswer. Two rules (JointAct.Rule):

- UNANIMOUS: every co-sponsor's admin approves. A letter campaign goes live to signers this way.
- NO_OBJECTION: effective once every other co-sponsor approved, or once the objection period
  (settings.JOINT_ACT_OBJECTION_PERIOD) passed with no objection. Closing a campaign works so;
  campaign updates can reuse it.

Any objection (with a public reason) stops an act. The co-sponsors counted are the campaign's
accepted co-sponsorships at the moment the act is settled: an organization that joins later
must answer too, one that left no longer counts. Only an admin answers for an organization,
once per organization (a database constraint), and may change the answer until the act is
settled. The proposer's organization counts as approving when an admin of it proposed; an
editor's proposal still needs the organization's own admin (or its silence, under
NO_OBJECTION). What an adopted act does is registered per kind by the app that owns the subject
(``joint_act_kind_register``), so this module never imports those apps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns.models import Campaign, CoSponsorship, JointAct, JointActAnswer
from foundation.errors import DomainError
from members.models import Membership, Organization, User
from members.services import organization_language
from outbox.services import email_enqueue_template

logger = logging.getLogger(__name__)

EDITOR_ROLES: set[str] = {Membership.Role.ADMIN, Membership.Role.EDITOR}
# Proposals one co-sponsor may make for one campaign in 24 hours (each one mails every admin).
PROPOSALS_PER_DAY = 10


class JointActError(DomainError):
    """A joint-act rule was broken; the message is shown to the person who tried."""


# What an adopted act does, per kind. It runs inside the settling transaction; raising
# JointActError stops the act (with the message as its note) and changes nothing else.
JointEffect = Callable[[JointAct], None]
_EFFECTS: dict[str, JointEffect] = {}
# Kinds that may still be proposed on a closed campaign (telling signers the result).
_AFTER_CLOSE: set[str] = set()


def joint_act_kind_register(*, kind: str, effect: JointEffect, after_close: bool = False) -> None:
    _EFFECTS[kind] = effect
    if after_close:
        _AFTER_CLOSE.add(kind)


def _in_every_language(text: Callable[[], str]) -> dict[str, str]:
    """``text`` calls gettext; it is run once per site language."""
    result = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            result[code] = str(text())[:1000]
    return result


# --- reads ------------------------------------------------------------------------------------


def cosponsor_ids(campaign: Campaign | int) -> set[int]:
    campaign_id = campaign if isinstance(campaign, int) else campaign.pk
    return set(
        CoSponsorship.objects.filter(
            campaign_id=campaign_id, status=CoSponsorship.Status.ACCEPTED
        ).values_list("organization_id", flat=True)
    )


def joint_acts_of(*, campaign: Campaign) -> QuerySet[JointAct]:
    """Every act of a campaign with its answers, newest first: the public record."""
    return campaign.joint_acts.select_related("proposed_by").prefetch_related(
        "answers__organization"
    )


def joint_acts_pending(*, campaign: Campaign) -> QuerySet[JointAct]:
    return joint_acts_of(campaign=campaign).filter(status=JointAct.Status.PENDING)


def joint_act_latest(*, campaign_id: int, kind: str, subject_id: int = 0) -> JointAct | None:
    return (
        JointAct.objects.filter(campaign_id=campaign_id, kind=kind, subject_id=subject_id)
        .order_by("-proposed_at", "-pk")
        .first()
    )


# --- writes -----------------------------------------------------------------------------------


def _is_admin(user: User, organization: Organization) -> bool:
    return Membership.objects.filter(
        user=user, organization=organization, role=Membership.Role.ADMIN
    ).exists()


@transaction.atomic
def joint_act_propose(
    *,
    campaign: Campaign,
    organization: Organization,
    user: User,
    kind: str,
    rule: str,
    description: Callable[[], str],
    subject_id: int = 0,
    payload: dict[str, Any] | None = None,
) -> JointAct:
    """A co-sponsor (an editor or admin acting for it) proposes an act to the others.

    ``description`` says what the act does, by calling gettext: it is kept in every site
    language, for the public history and the co-sponsors' mail.
    """
    if kind not in _EFFECTS:
        raise JointActError(f"unknown joint act kind {kind!r}")  # a programming error
    if rule not in JointAct.Rule.values:
        raise JointActError(f"unknown rule {rule!r}")
    if not Membership.objects.filter(
        user=user, organization=organization, role__in=EDITOR_ROLES
    ).exists():
        raise JointActError(_("You cannot act for %(name)s.") % {"name": organization.name})
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if organization.pk not in cosponsor_ids(campaign):
        raise JointActError(_("Only the campaign's co-sponsors can do this."))
    if campaign.status == Campaign.Status.CLOSED and kind not in _AFTER_CLOSE:
        raise JointActError(_("This campaign is closed."))
    now = timezone.now()
    # Every proposal mails every co-sponsor's admins (and so does its withdrawal): without a cap,
    # one editor proposing and withdrawing in a loop would flood the other organizations.
    if (
        JointAct.objects.filter(
            campaign=campaign, proposed_by=organization, proposed_at__gte=now - timedelta(days=1)
        ).count()
        >= PROPOSALS_PER_DAY
    ):
        raise JointActError(
            _(
                "%(name)s has made %(count)d proposals for this campaign in the last 24 hours; "
                "wait before proposing again."
            )
            % {"name": organization.name, "count": PROPOSALS_PER_DAY}
        )
    text = _in_every_language(description)
    try:
        with transaction.atomic():
            act = JointAct.objects.create(
                campaign=campaign,
                kind=kind,
                subject_id=subject_id,
                rule=rule,
                payload=payload or {},
                description_en=text["en"],
                description_ru=text["ru"],
                proposed_by=organization,
                proposed_by_user=user,
                proposed_at=now,
                due_at=now + settings.JOINT_ACT_OBJECTION_PERIOD
                if rule == JointAct.Rule.NO_OBJECTION
                else None,
            )
    except IntegrityError as exc:
        raise JointActError(
            _("The same proposal is already waiting for the co-sponsors' answers.")
        ) from exc
    if _is_admin(user, organization):
        JointActAnswer.objects.create(
            act=act,
            organization=organization,
            answer=JointActAnswer.Answer.APPROVE,
            answered_by=user,
            answered_at=now,
        )
    _mail_admins(act, "campaigns/email/joint_act_proposed")
    joint_act_settle(act=act, now=now)
    act.refresh_from_db()
    return act


@transaction.atomic
def joint_act_answer(
    *, act: JointAct, organization: Organization, user: User, approve: bool, reason: str = ""
) -> JointActAnswer:
    """An admin of a co-sponsor approves or objects for it; a new answer replaces the old one."""
    if not _is_admin(user, organization):
        raise JointActError(_("Only an admin of the organization can answer for it."))
    act = JointAct.objects.select_for_update().get(pk=act.pk)
    if organization.pk not in cosponsor_ids(act.campaign_id):
        raise JointActError(_("Only the campaign's co-sponsors answer its proposals."))
    if act.status != JointAct.Status.PENDING:
        raise JointActError(_("This proposal is already settled."))
    reason = reason.strip()
    if not approve and not reason:
        raise JointActError(_("Give the reason for the objection: the other co-sponsors see it."))
    answer_value = JointActAnswer.Answer.APPROVE if approve else JointActAnswer.Answer.OBJECT
    now = timezone.now()
    answer = JointActAnswer.objects.filter(act=act, organization=organization).first()
    if answer is None:
        answer = JointActAnswer.objects.create(
            act=act,
            organization=organization,
            answer=answer_value,
            reason=reason,
            answered_by=user,
            answered_at=now,
        )
    elif (answer.answer, answer.reason) != (answer_value, reason):
        answer.earlier = [
            *answer.earlier,
            {
                "answer": answer.answer,
                "reason": answer.reason,
                "at": answer.answered_at.isoformat(),
            },
        ]
        answer.answer, answer.reason = answer_value, reason
        answer.answered_by, answer.answered_at = user, now
        answer.save()
    joint_act_settle(act=act, now=now)
    return answer


@transaction.atomic
def joint_act_withdraw(*, act: JointAct, organization: Organization, user: User) -> JointAct:
    """The proposing co-sponsor takes its proposal back before it is settled."""
    if not Membership.objects.filter(
        user=user, organization=organization, role__in=EDITOR_ROLES
    ).exists():
        raise JointActError(_("You cannot act for %(name)s.") % {"name": organization.name})
    act = JointAct.objects.select_for_update().get(pk=act.pk)
    if act.proposed_by_id != organization.pk:
        raise JointActError(_("Only the organization that proposed it can withdraw a proposal."))
    if act.status != JointAct.Status.PENDING:
        raise JointActError(_("This proposal is already settled."))
    act.status, act.settled_at = JointAct.Status.WITHDRAWN, timezone.now()
    act.save(update_fields=["status", "settled_at"])
    _mail_admins(act, "campaigns/email/joint_act_settled")
    return act


def _decision(act: JointAct, now: datetime) -> str | None:
    """ADOPTED, STOPPED, or None while the act must still wait."""
    cosponsors = cosponsor_ids(act.campaign_id)
    answers = dict(
        act.answers.filter(organization_id__in=cosponsors).values_list("organization_id", "answer")
    )
    objected = JointActAnswer.Answer.OBJECT in answers.values()
    approved = {org for org, answer in answers.items() if answer == JointActAnswer.Answer.APPROVE}
    if cosponsors and cosponsors <= approved:
        return JointAct.Status.ADOPTED
    if act.rule == JointAct.Rule.NO_OBJECTION and act.due_at is not None and now >= act.due_at:
        # An objection stands until its author changes it; when the time is up, it stops the act.
        return JointAct.Status.STOPPED if objected else JointAct.Status.ADOPTED
    return None


@transaction.atomic
def joint_act_settle(*, act: JointAct, now: datetime | None = None) -> bool:
    """Settle the act if its rule allows; safe to call any number of times, from anywhere."""
    now = now or timezone.now()
    act = JointAct.objects.select_for_update().get(pk=act.pk)
    if act.status != JointAct.Status.PENDING:
        return False
    outcome = _decision(act, now)
    if outcome is None:
        return False
    act.status, act.settled_at = outcome, now
    act.note = "" if outcome == JointAct.Status.ADOPTED else "objected"
    # Saved before the effect runs, so an effect (or what it calls) reads the act as adopted.
    act.save(update_fields=["status", "settled_at", "note"])
    if outcome == JointAct.Status.ADOPTED:
        try:
            with transaction.atomic():
                _EFFECTS[act.kind](act)
        except JointActError as exc:
            act.status, act.note = JointAct.Status.STOPPED, str(exc)[:500]
            act.save(update_fields=["status", "note"])
    _mail_admins(act, "campaigns/email/joint_act_settled")
    return True


def joint_acts_settle_due(*, now: datetime | None = None) -> int:
    """Periodic: settle every pending act whose rule now allows it (the clock, or co-sponsors
    who left). Each act is settled in its own transaction under a row lock, so two runs at once
    settle each act once."""
    now = now or timezone.now()
    settled = 0
    for act_id in list(
        JointAct.objects.filter(status=JointAct.Status.PENDING).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            act = (
                JointAct.objects.select_for_update(skip_locked=True)
                .filter(pk=act_id, status=JointAct.Status.PENDING)
                .first()
            )
            if act is None:
                continue
            settled += int(joint_act_settle(act=act, now=now))
    return settled


def _mail_admins(act: JointAct, template: str) -> None:
    """Every admin of every co-sponsor hears of a proposal and of its end, in the
    organization's language (outbox rows, written in this transaction)."""
    memberships = Membership.objects.filter(
        organization_id__in=cosponsor_ids(act.campaign_id) | {act.proposed_by_id},
        role=Membership.Role.ADMIN,
    ).select_related("user", "organization")
    campaign = act.campaign
    for membership in memberships:
        organization = membership.organization
        language = organization_language(organization)
        with translation.override(language):
            description = act.description
        email_enqueue_template(
            kind="campaigns.joint_act",
            to=membership.user.email,
            template=template,
            context={
                "act": act,
                "description": description,
                "campaign": campaign,
                "organization": organization,
                "manage_url": settings.SITE_URL
                + reverse("campaigns:manage", args=[organization.slug, campaign.slug]),
            },
            language=language,
        )

"""The only writers of the emigre agenda: proposals, supports, moderation and answers.

Rules, and why (README "The emigre agenda" repeats them):
- A proposal and a support count only once confirmed from the mailbox (double opt-in), one
  support per mailbox per proposal (the digest of foundation/mailbox.py). A repeat attempt
  answers exactly like a first one and mails only the mailbox itself: no insider can learn from
  the page or the count whether an address took part.
- A confirmed proposal waits for a moderator (an admin or editor of a member organization, with
  two-factor sign-in) before it is public: a title can carry a slur or someone's name and
  address, and a public page is copied within minutes. Moderators and staff can hide a
  proposal at any time with a reason; every act is public (who, what, why); only staff restore.
  A hiding by one organization is mailed to staff, the member organizations' admins and the
  proposer (if they asked to hear), and is undone by itself unless staff or a moderator of
  another member organization confirms it within AGENDA_HIDE_CONFIRM_WITHIN; an organization
  whose hiding of a proposal was undone cannot hide it alone again. While hidden, its due
  date, an adoption's lapse clock and its motions' objection periods stand still.
- At AGENDA_SUPPORT_THRESHOLD confirmed supports the proposal is put before the member
  organizations (their admins are mailed) and must be answered within AGENDA_ANSWER_WITHIN.
- Answers, equal partners: a member organization adopts it by starting a campaign (it commits
  its own work, so that needs nobody's leave); a decline or a merge is a motion of one member
  that becomes the coalition's answer only if no other member objects within
  AGENDA_OBJECTION_PERIOD; an objection, or the mover's choice, puts it to a coalition vote
  (members' Decision), as can an adoption. No single organization silently kills a proposal.
- The answer is mailed once to every confirmed supporter who asked for it (the proposer too),
  through the outbox, with one-click unsubscribe and the erasure link.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agenda.models import AnswerMotion, ModerationAct, Proposal, Support
from campaigns import selectors as campaign_selectors
from campaigns import services as campaign_services
from campaigns.models import Campaign, IssueArea
from campaigns.signing import digest_token
from foundation.errors import DomainError
from foundation.mailbox import email_digest
from members.models import Decision, Membership, Organization, User
from members.services import (
    MembershipError,
    decision_effect_register,
    decision_open,
    organization_language,
)
from outbox.mailbox_cap import mailbox_may_be_mailed
from outbox.services import email_enqueue_template
from outbox.suppression import unsubscribe_hook_register
from privacy.services import erasure_hook_register

logger = logging.getLogger(__name__)

_SALT = "agenda.link"
NOTICE_BATCH = 500
ANSWER_SCOPE_PREFIX = "agenda:"


class AgendaError(DomainError):
    """An agenda rule was broken; the message is shown to the person who tried."""


# --- links ------------------------------------------------------------------------------------


def token_make(kind: str, pk: int) -> str:
    """A confirmation link's token: ``kind`` is "p" (a proposal) or "s" (a support)."""
    return signing.dumps({"k": kind, "i": pk}, salt=_SALT, compress=True)


def token_read(token: str) -> tuple[str, int] | None:
    try:
        data = signing.loads(token, salt=_SALT, max_age=settings.SIGNATURE_CONFIRM_WITHIN)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("k") not in {"p", "s"}:
        return None
    if not isinstance(data.get("i"), int):
        return None
    return str(data["k"]), int(data["i"])


def _answer_scope(proposal: Proposal) -> str:
    return f"{ANSWER_SCOPE_PREFIX}{proposal.pk}"


def _language() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE)[:2]


def _mail(
    *, kind: str, to: str, digest: str, language: str, context: dict[str, Any], **extra: Any
) -> None:
    email_enqueue_template(
        kind=f"agenda.{kind}",
        to=to,
        template=f"agenda/email/{kind}",
        context={
            **context,
            "erase_url": settings.SITE_URL + reverse("privacy:erase", args=[digest_token(digest)]),
        },
        language=language,
        **extra,
    )


# --- proposing --------------------------------------------------------------------------------


@transaction.atomic
def proposal_create(
    *,
    title: str,
    description: str,
    issue_area: IssueArea,
    countries: Iterable[str],
    email: str,
    wants_answer: bool = False,
) -> Proposal | None:
    """Record a proposal awaiting its proposer's confirmation and mail the link.

    Returns None when the mailbox had its share of mail today: the caller answers exactly as for
    a new proposal, and nothing is written or sent (nobody can mail-bomb an inbox through us).
    """
    title, description = title.strip(), description.strip()
    countries = sorted(set(countries))
    if not title or not description:
        raise AgendaError(_("Give the problem a title and a description."))
    if not countries:
        raise AgendaError(_("Choose at least one country."))
    digest = email_digest(email)
    if not mailbox_may_be_mailed(digest):
        logger.warning("agenda mail cap reached; proposal dropped")
        return None
    proposal = Proposal.objects.create(
        title=title,
        description=description,
        issue_area=issue_area,
        countries=countries,  # type: ignore[misc]  # django-countries' multiple field takes a list
        email=email.strip(),
        email_digest=digest,
        wants_answer=wants_answer,
        language=_language(),
    )
    _mail(
        kind="proposal_confirm",
        to=proposal.email,
        digest=digest,
        language=proposal.language,
        context={
            "proposal": proposal,
            "confirm_url": settings.SITE_URL
            + reverse("agenda:confirm", args=[token_make("p", proposal.pk)]),
        },
    )
    return proposal


def _proposal_confirm(proposal_id: int) -> Proposal:
    proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise AgendaError(_("This proposal no longer exists."))
    if proposal.status != Proposal.Status.UNCONFIRMED:
        return proposal  # following the link again changes nothing
    proposal.status = Proposal.Status.IN_REVIEW
    proposal.confirmed_at = timezone.now()
    proposal.support_count = 1  # the proposer's own support
    proposal.save(update_fields=["status", "confirmed_at", "support_count"])
    Support.objects.create(
        proposal=proposal,
        email=proposal.email,
        email_digest=proposal.email_digest,
        status=Support.Status.CONFIRMED,
        wants_answer=proposal.wants_answer,
        is_proposer=True,
        language=proposal.language,
        confirmed_at=proposal.confirmed_at,
    )
    return proposal


# --- supporting -------------------------------------------------------------------------------


SUPPORTABLE = (Proposal.Status.OPEN, Proposal.Status.AWAITING)


@transaction.atomic
def support_create(*, proposal: Proposal, email: str, wants_answer: bool = False) -> None:
    """Record a support awaiting confirmation and mail the link; a repeat (any spelling of the
    same mailbox) writes nothing and mails that mailbox again, at most once per cooldown. The
    caller cannot tell the cases apart, and neither can anyone reading the count."""
    if proposal.status not in SUPPORTABLE:
        raise AgendaError(_("This proposal does not take supports."))
    digest = email_digest(email)
    if not mailbox_may_be_mailed(digest):
        logger.warning("agenda mail cap reached; support dropped")
        return
    try:
        with transaction.atomic():
            support = Support.objects.create(
                proposal=proposal,
                email=email.strip(),
                email_digest=digest,
                wants_answer=wants_answer,
                language=_language(),
            )
    except IntegrityError:
        existing = Support.objects.select_for_update().get(proposal=proposal, email_digest=digest)
        if timezone.now() - existing.last_mailed_at < settings.SIGNATURE_RESEND_COOLDOWN:
            return
        existing.last_mailed_at = timezone.now()
        existing.save(update_fields=["last_mailed_at"])
        _support_mail(existing)
        return
    _support_mail(support)


def _support_mail(support: Support) -> None:
    pending = support.status == Support.Status.PENDING
    _mail(
        kind="support_confirm" if pending else "support_already",
        to=support.email,
        digest=support.email_digest,
        language=support.language,
        context={
            "proposal": support.proposal,
            "confirm_url": settings.SITE_URL
            + reverse("agenda:confirm", args=[token_make("s", support.pk)]),
        },
    )


def _support_confirm(support_id: int) -> Proposal:
    support = Support.objects.select_for_update().filter(pk=support_id).first()
    if support is None:
        raise AgendaError(_("This support no longer exists."))
    # The proposal row is the lock that orders confirmations against the threshold.
    proposal = Proposal.objects.select_for_update().get(pk=support.proposal_id)
    if support.status == Support.Status.CONFIRMED:
        return proposal
    if proposal.status not in SUPPORTABLE:
        raise AgendaError(_("This proposal does not take supports."))
    support.status = Support.Status.CONFIRMED
    support.confirmed_at = timezone.now()
    support.save(update_fields=["status", "confirmed_at"])
    proposal.support_count = F("support_count") + 1
    proposal.save(update_fields=["support_count"])
    proposal.refresh_from_db()
    _submit_if_due(proposal)
    return proposal


@transaction.atomic
def link_confirm(*, token: str) -> tuple[str, Proposal]:
    """Follow an emailed link: ("p", proposal) or ("s", proposal supported)."""
    found = token_read(token)
    if found is None:
        raise AgendaError(_("This link is not valid or has expired."))
    kind, pk = found
    if kind == "p":
        return kind, _proposal_confirm(pk)
    return kind, _support_confirm(pk)


# --- before the member organizations ----------------------------------------------------------


def _member_admins() -> list[tuple[User, Organization]]:
    return [
        (membership.user, membership.organization)
        for membership in Membership.objects.filter(
            role=Membership.Role.ADMIN,
            organization__status=Organization.Status.MEMBER,
            user__is_active=True,
        ).select_related("user", "organization")
    ]


def _mail_member_admins(kind: str, context: dict[str, Any]) -> None:
    for user, organization in _member_admins():
        email_enqueue_template(
            kind=f"agenda.{kind}",
            to=user.email,
            template=f"agenda/email/{kind}",
            context={**context, "organization": organization},
            language=organization_language(organization),
        )


def _submit_if_due(proposal: Proposal) -> None:
    if proposal.status != Proposal.Status.OPEN:
        return
    if proposal.support_count < settings.AGENDA_SUPPORT_THRESHOLD:
        return
    now = timezone.now()
    proposal.status = Proposal.Status.AWAITING
    proposal.submitted_at = now
    proposal.answer_due = now + settings.AGENDA_ANSWER_WITHIN
    proposal.save(update_fields=["status", "submitted_at", "answer_due"])
    _mail_member_admins("submitted", {"proposal": proposal})


# --- moderation -------------------------------------------------------------------------------


def _require_member(organization: Organization, user: User, roles: set[str]) -> None:
    if not organization.is_member:
        raise AgendaError(_("Only member organizations can do this."))
    if not Membership.objects.filter(user=user, organization=organization, role__in=roles).exists():
        raise AgendaError(_("You cannot act for %(name)s.") % {"name": organization.name})


MODERATOR_ROLES: set[str] = {Membership.Role.ADMIN, Membership.Role.EDITOR}
ANSWER_ROLES: set[str] = {Membership.Role.ADMIN}


@transaction.atomic
def proposal_publish(*, proposal: Proposal, organization: Organization, user: User) -> Proposal:
    _require_member(organization, user, MODERATOR_ROLES)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != Proposal.Status.IN_REVIEW:
        raise AgendaError(_("Only a proposal waiting for a moderator can be published."))
    proposal.status = Proposal.Status.OPEN
    proposal.published_at = timezone.now()
    proposal.save(update_fields=["status", "published_at"])
    ModerationAct.objects.create(
        proposal=proposal, action=ModerationAct.Action.PUBLISH, organization=organization, user=user
    )
    _submit_if_due(proposal)
    return proposal


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise AgendaError(_("Give the reason; it is published."))
    return reason


def _mail_hidden(proposal: Proposal, act: ModerationAct) -> None:
    """Tell staff, every member organization's admins (a second one must confirm a hiding by one
    organization) and the proposer, if they asked to hear about their proposal."""
    context = {
        "proposal": proposal,
        "act": act,
        "confirm_by": proposal.hidden_at + settings.AGENDA_HIDE_CONFIRM_WITHIN
        if proposal.hidden_at and not proposal.hide_confirmed
        else None,
    }
    for staff in User.objects.filter(is_staff=True, is_active=True).exclude(email=""):
        email_enqueue_template(
            kind="agenda.hidden",
            to=staff.email,
            template="agenda/email/hidden",
            context={**context, "organization": None},
            language=settings.LANGUAGE_CODE[:2],
        )
    if act.organization is not None:
        _mail_member_admins("hidden", context)
    if proposal.wants_answer and proposal.email:
        _mail(
            kind="hidden_proposer",
            to=proposal.email,
            digest=proposal.email_digest,
            language=proposal.language,
            context=context,
        )


@transaction.atomic
def proposal_hide(
    *, proposal: Proposal, reason: str, user: User, organization: Organization | None = None
) -> Proposal:
    """Hide a proposal (a moderator of a member organization, or staff when ``organization`` is
    None: the view checks staff). The act and its reason are public; the text is not. A hiding by
    an organization is provisional (see the module doc); one by staff stands."""
    if organization is not None:
        _require_member(organization, user, MODERATOR_ROLES)
    reason = _check_reason(reason)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status in {Proposal.Status.HIDDEN, Proposal.Status.UNCONFIRMED}:
        raise AgendaError(_("This proposal cannot be hidden now."))
    if (
        organization is not None
        and ModerationAct.objects.filter(
            proposal=proposal, action=ModerationAct.Action.HIDE, organization=organization
        ).exists()
    ):
        # It is not hidden now, so that hiding was undone: hiding it again after every
        # restoration would bury it all the same.
        raise AgendaError(
            _(
                "Your organization's hiding of this proposal was undone; another member "
                "organization or staff must hide it now."
            )
        )
    proposal.status_before_hide = proposal.status
    proposal.status = Proposal.Status.HIDDEN
    proposal.hidden_at = timezone.now()
    proposal.hide_confirmed = organization is None
    proposal.save(update_fields=["status", "status_before_hide", "hidden_at", "hide_confirmed"])
    # Pending motions are not withdrawn: they wait (motions_settle skips hidden proposals) and
    # their objection period is extended by the time hidden on restoration.
    act = ModerationAct.objects.create(
        proposal=proposal,
        action=ModerationAct.Action.HIDE,
        reason=reason[:300],
        organization=organization,
        by_staff=organization is None,
        user=user,
    )
    _mail_hidden(proposal, act)
    return proposal


def _hide_last(proposal: Proposal) -> ModerationAct | None:
    return proposal.moderation.filter(action=ModerationAct.Action.HIDE).first()


@transaction.atomic
def proposal_hide_confirm(
    *, proposal: Proposal, user: User, reason: str, organization: Organization | None = None
) -> Proposal:
    """A second party confirms a hiding by one organization: staff (``organization`` None, the
    view checks staff) or a moderator of another member organization. With a reason, published
    in the proposal's moderation record like every other act: a confirmation is what makes a
    hiding stand, so the public sees why the second party agreed."""
    if organization is not None:
        _require_member(organization, user, MODERATOR_ROLES)
    reason = _check_reason(reason)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != Proposal.Status.HIDDEN or proposal.hide_confirmed:
        raise AgendaError(_("Only a hiding waiting for confirmation can be confirmed."))
    hide = _hide_last(proposal)
    if organization is not None and hide is not None and hide.organization_id == organization.pk:
        raise AgendaError(_("Another member organization or staff must confirm your hiding."))
    proposal.hide_confirmed = True
    proposal.save(update_fields=["hide_confirmed"])
    ModerationAct.objects.create(
        proposal=proposal,
        action=ModerationAct.Action.CONFIRM,
        reason=reason[:300],
        organization=organization,
        by_staff=organization is None,
        user=user,
    )
    return proposal


def _unhide(proposal: Proposal, *, now: datetime) -> None:
    """Back to exactly where it was; its due dates move on by the time it was hidden."""
    paused = now - proposal.hidden_at if proposal.hidden_at else timedelta(0)
    proposal.status = proposal.status_before_hide or Proposal.Status.IN_REVIEW
    proposal.status_before_hide = ""
    if proposal.answer_due is not None and proposal.status == Proposal.Status.AWAITING:
        proposal.answer_due += paused
    if proposal.status == Proposal.Status.ADOPTED:
        # The adoption's lapse clock stands still too: hiding an adopted proposal (or having it
        # hidden) must not eat the adopting organization's time to take its campaign live.
        proposal.adoption_paused += paused
    proposal.hidden_at = None
    proposal.hide_confirmed = False
    proposal.save()
    AnswerMotion.objects.filter(
        proposal=proposal, status=AnswerMotion.Status.PENDING, effective_at__isnull=False
    ).update(effective_at=F("effective_at") + paused)
    # A coalition vote that ended while it was hidden takes effect now.
    for motion in AnswerMotion.objects.select_for_update().filter(
        proposal=proposal, status=AnswerMotion.Status.VOTING, decision__closed_at__isnull=False
    ):
        if motion.decision is not None:
            _decision_effect(motion.decision)


@transaction.atomic
def proposal_restore(*, proposal: Proposal, reason: str, user: User) -> Proposal:
    """Staff only (the view checks): undo a hiding, e.g. one a hostile member used to bury a
    proposal. It returns to exactly where it was."""
    reason = _check_reason(reason)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != Proposal.Status.HIDDEN:
        raise AgendaError(_("Only a hidden proposal can be restored."))
    _unhide(proposal, now=timezone.now())
    ModerationAct.objects.create(
        proposal=proposal,
        action=ModerationAct.Action.RESTORE,
        reason=reason[:300],
        by_staff=True,
        user=user,
    )
    return proposal


def hides_expire(*, now: datetime | None = None) -> int:
    """Undo every hiding by one organization nobody confirmed within AGENDA_HIDE_CONFIRM_WITHIN
    (a public act names the organization whose hiding it was)."""
    now = now or timezone.now()
    due = Proposal.objects.filter(
        status=Proposal.Status.HIDDEN,
        hide_confirmed=False,
        hidden_at__lt=now - settings.AGENDA_HIDE_CONFIRM_WITHIN,
    )
    undone = 0
    for proposal_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            proposal = (
                Proposal.objects.select_for_update(skip_locked=True)
                .filter(pk=proposal_id, status=Proposal.Status.HIDDEN, hide_confirmed=False)
                .first()
            )
            if proposal is None or proposal.hidden_at is None:
                continue
            if proposal.hidden_at >= now - settings.AGENDA_HIDE_CONFIRM_WITHIN:
                continue
            hide = _hide_last(proposal)
            _unhide(proposal, now=now)
            ModerationAct.objects.create(
                proposal=proposal,
                action=ModerationAct.Action.UNDO,
                organization=hide.organization if hide is not None else None,
            )
            undone += 1
    return undone


# --- answers ----------------------------------------------------------------------------------

ANSWERABLE = (Proposal.Status.OPEN, Proposal.Status.AWAITING)


def _locked_answerable(proposal: Proposal) -> Proposal:
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status not in ANSWERABLE:
        raise AgendaError(_("This proposal cannot be answered now."))
    return proposal


def _campaign_for_proposal(
    proposal: Proposal, *, organization: Organization, user: User, title: str, summary: str
) -> Campaign:
    title, summary = title.strip(), summary.strip()
    if not title or not summary:
        raise AgendaError(_("Give the campaign a title and a summary."))
    # The campaign starts in the proposal's language; its co-sponsors add the other one.
    russian = proposal.language == "ru"
    try:
        return campaign_services.campaign_create(
            organization=organization,
            user=user,
            issue_area=proposal.issue_area,
            title_en="" if russian else title[:200],
            title_ru=title[:200] if russian else "",
            summary_en="" if russian else summary[:600],
            summary_ru=summary[:600] if russian else "",
        )
    except campaign_services.CampaignError as exc:
        raise AgendaError(str(exc)) from exc


def _answer(
    proposal: Proposal,
    *,
    status: str,
    organization: Organization | None,
    reason: str = "",
    campaign: Campaign | None = None,
    decision: Decision | None = None,
) -> None:
    proposal.status = status
    proposal.answered_at = timezone.now()
    proposal.adoption_paused = timedelta(0)
    proposal.answered_by = organization
    proposal.answer_reason = reason
    proposal.campaign = campaign
    proposal.answer_decision = decision
    # Every answer is news to the supporters who asked: its notices start from the first one
    # again, even if an earlier answer's (or lapse's) were already sent.
    proposal.notices_pending = True
    proposal.notice_cursor = 0
    proposal.save()
    # Any other motion still open is moot now.
    AnswerMotion.objects.filter(proposal=proposal, status=AnswerMotion.Status.PENDING).update(
        status=AnswerMotion.Status.WITHDRAWN
    )


def _check_not_lapsed(proposal: Proposal, organization: Organization) -> None:
    """An organization whose adoption of this proposal lapsed cannot adopt it again: adopting,
    letting it lapse and adopting again would bury it for good, one due date at a time."""
    if ModerationAct.objects.filter(
        proposal=proposal, action=ModerationAct.Action.LAPSE, organization=organization
    ).exists():
        raise AgendaError(
            _(
                "The adoption of this proposal by %(name)s lapsed; another member organization "
                "must take it up."
            )
            % {"name": organization.name}
        )


@transaction.atomic
def proposal_adopt(
    *, proposal: Proposal, organization: Organization, user: User, title: str, summary: str
) -> Campaign:
    """A member organization takes the problem up: it starts a campaign (a draft it then
    prepares and takes live, co-sponsors welcome), linked to the proposal."""
    _require_member(organization, user, ANSWER_ROLES)
    proposal = _locked_answerable(proposal)
    _check_not_lapsed(proposal, organization)
    if AnswerMotion.objects.filter(proposal=proposal, status=AnswerMotion.Status.VOTING).exists():
        raise AgendaError(_("The coalition is voting on its answer; wait for the vote."))
    campaign = _campaign_for_proposal(
        proposal, organization=organization, user=user, title=title, summary=summary
    )
    _answer(
        proposal,
        status=Proposal.Status.ADOPTED,
        organization=organization,
        reason=summary.strip(),
        campaign=campaign,
    )
    return campaign


@transaction.atomic
def motion_propose(
    *,
    proposal: Proposal,
    organization: Organization,
    user: User,
    kind: str,
    reason: str,
    campaign: Campaign | None = None,
    vote: bool = False,
    campaign_title: str = "",
    campaign_summary: str = "",
) -> AnswerMotion:
    """A member organization moves an answer on the coalition's behalf (see the module doc)."""
    _require_member(organization, user, ANSWER_ROLES)
    proposal = _locked_answerable(proposal)
    reason = _check_reason(reason)
    if kind not in AnswerMotion.Kind.values:
        raise AgendaError(_("Choose an answer from the list."))
    if kind != AnswerMotion.Kind.ADOPT and proposal.status != Proposal.Status.AWAITING:
        # Before the threshold nobody owes an answer: a member could otherwise decline every
        # new proposal before its supporters found it (spam and abuse are hidden, not declined).
        raise AgendaError(
            _("Only a proposal before the member organizations can be declined or merged.")
        )
    if kind == AnswerMotion.Kind.MERGE:
        if campaign is None or campaign_selectors.campaign_public(slug=campaign.slug) is None:
            raise AgendaError(_("Choose a public campaign to merge it with."))
    else:
        campaign = None
    if kind == AnswerMotion.Kind.ADOPT:
        _check_not_lapsed(proposal, organization)
        vote = True  # adopting without a vote needs no motion: proposal_adopt
        if not campaign_title.strip() or not campaign_summary.strip():
            raise AgendaError(_("Give the campaign a title and a summary."))
    if AnswerMotion.objects.filter(
        proposal=proposal, status__in=[AnswerMotion.Status.PENDING, AnswerMotion.Status.VOTING]
    ).exists():
        raise AgendaError(_("Another answer to this proposal is already before the coalition."))
    motion = AnswerMotion.objects.create(
        proposal=proposal,
        kind=kind,
        reason=reason,
        campaign=campaign,
        campaign_title=campaign_title.strip()[:200],
        campaign_summary=campaign_summary.strip()[:600],
        proposed_by=organization,
        proposed_by_user=user,
        effective_at=None if vote else timezone.now() + settings.AGENDA_OBJECTION_PERIOD,
    )
    if vote:
        _motion_to_vote(motion)
    else:
        _mail_member_admins("motion", {"proposal": proposal, "motion": motion})
    return motion


def _motion_title(motion: AnswerMotion) -> str:
    with translation.override("en"):  # the decision's stored title is the English record
        titles = {
            AnswerMotion.Kind.ADOPT: "Adopt the emigre proposal “%(title)s”",
            AnswerMotion.Kind.DECLINE: "Decline the emigre proposal “%(title)s”",
            AnswerMotion.Kind.MERGE: "Merge the emigre proposal “%(title)s” with a campaign",
        }
        return (titles[AnswerMotion.Kind(motion.kind)] % {"title": motion.proposal.title})[:200]


def _motion_to_vote(motion: AnswerMotion) -> None:
    description = f"{motion.reason}\n\n{settings.SITE_URL}{motion.proposal.get_absolute_url()}"
    try:
        decision = decision_open(
            kind=Decision.Kind.AGENDA_ANSWER,
            title=_motion_title(motion),
            description=description[:5000],
            proposed_by=motion.proposed_by,
        )
    except MembershipError as exc:
        raise AgendaError(str(exc)) from exc
    motion.decision = decision
    motion.status = AnswerMotion.Status.VOTING
    motion.effective_at = None
    motion.save(update_fields=["decision", "status", "effective_at"])


@transaction.atomic
def motion_object(
    *, motion: AnswerMotion, organization: Organization, user: User, reason: str
) -> AnswerMotion:
    """Another member organization objects: the motion goes to a coalition vote."""
    _require_member(organization, user, ANSWER_ROLES)
    reason = _check_reason(reason)
    motion = AnswerMotion.objects.select_for_update().get(pk=motion.pk)
    if motion.status != AnswerMotion.Status.PENDING:
        raise AgendaError(_("This motion is no longer open for objections."))
    if motion.effective_at is not None and timezone.now() >= motion.effective_at:
        raise AgendaError(_("The time to object has passed."))
    if motion.proposed_by_id == organization.pk:
        raise AgendaError(_("Your organization made this motion; withdraw it instead."))
    motion.objected_by = organization
    motion.objection = reason
    motion.save(update_fields=["objected_by", "objection"])
    _motion_to_vote(motion)
    return motion


@transaction.atomic
def motion_withdraw(*, motion: AnswerMotion, organization: Organization, user: User) -> None:
    _require_member(organization, user, ANSWER_ROLES)
    motion = AnswerMotion.objects.select_for_update().get(pk=motion.pk)
    if motion.proposed_by_id != organization.pk:
        raise AgendaError(_("Only the organization that made a motion can withdraw it."))
    if motion.status != AnswerMotion.Status.PENDING:
        raise AgendaError(_("Only a motion open for objections can be withdrawn."))
    motion.status = AnswerMotion.Status.WITHDRAWN
    motion.save(update_fields=["status"])


def _motion_apply(motion: AnswerMotion) -> None:
    """Make the motion the coalition's answer (inside the caller's transaction, rows locked)."""
    proposal = Proposal.objects.select_for_update().get(pk=motion.proposal_id)
    if proposal.status not in ANSWERABLE:
        motion.status = AnswerMotion.Status.WITHDRAWN  # hidden or answered meanwhile
        motion.save(update_fields=["status"])
        return
    campaign = motion.campaign
    status = {
        AnswerMotion.Kind.DECLINE: Proposal.Status.DECLINED,
        AnswerMotion.Kind.MERGE: Proposal.Status.MERGED,
        AnswerMotion.Kind.ADOPT: Proposal.Status.ADOPTED,
    }[AnswerMotion.Kind(motion.kind)]
    if motion.kind == AnswerMotion.Kind.ADOPT:
        user = motion.proposed_by_user
        try:
            if user is None:
                raise AgendaError(_("The person who moved the adoption has left."))
            with transaction.atomic():
                campaign = _campaign_for_proposal(
                    proposal,
                    organization=motion.proposed_by,
                    user=user,
                    title=motion.campaign_title,
                    summary=motion.campaign_summary,
                )
        except AgendaError:
            logger.warning("adopted motion could not start its campaign", extra={"id": motion.pk})
            motion.status = AnswerMotion.Status.REJECTED
            motion.save(update_fields=["status"])
            return
    motion.status = AnswerMotion.Status.APPLIED
    motion.save(update_fields=["status"])
    _answer(
        proposal,
        status=status,
        organization=motion.proposed_by,
        reason=motion.reason,
        campaign=campaign,
        decision=motion.decision,
    )


def _decision_effect(decision: Decision) -> None:
    motion = AnswerMotion.objects.select_for_update().filter(decision=decision).first()
    if motion is None or motion.status != AnswerMotion.Status.VOTING:
        return
    if Proposal.objects.filter(pk=motion.proposal_id, status=Proposal.Status.HIDDEN).exists():
        return  # the coalition's vote waits for the restoration (_unhide), it is not lost
    if decision.outcome == Decision.Outcome.ADOPTED:
        _motion_apply(motion)
    else:
        motion.status = AnswerMotion.Status.REJECTED
        motion.save(update_fields=["status"])


def motions_settle(*, now: datetime | None = None) -> int:
    """Apply every motion whose objection period passed without objection."""
    now = now or timezone.now()
    settled = 0
    due = AnswerMotion.objects.filter(
        status=AnswerMotion.Status.PENDING, effective_at__lte=now
    ).exclude(proposal__status=Proposal.Status.HIDDEN)  # they wait for its restoration
    for motion_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            motion = (
                AnswerMotion.objects.select_for_update(skip_locked=True)
                .filter(pk=motion_id, status=AnswerMotion.Status.PENDING, effective_at__lte=now)
                .first()
            )
            if motion is None:
                continue
            _motion_apply(motion)
            settled += 1
    return settled


def adoptions_lapse(*, now: datetime | None = None) -> int:
    """An adoption is a promise of a campaign. One whose campaign is still not public
    AGENDA_ANSWER_WITHIN after it was adopted (not counting the time it was hidden since) goes
    back before the member organizations, with a new due date and a public record naming the
    organization: adopting and then sitting on the campaign cannot quietly bury a proposal."""
    now = now or timezone.now()
    lapsed = 0
    # The clock runs from the adoption, without the time the proposal spent hidden since.
    due = (
        Proposal.objects.alias(lapse_from=F("answered_at") + F("adoption_paused"))
        .filter(status=Proposal.Status.ADOPTED, lapse_from__lt=now - settings.AGENDA_ANSWER_WITHIN)
        .exclude(campaign__status__in=campaign_selectors.PUBLIC_STATUSES)
    )
    for proposal_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            proposal = (
                Proposal.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=proposal_id, status=Proposal.Status.ADOPTED)
                .select_related("campaign")
                .first()
            )
            if (
                proposal is None
                or proposal.answered_at is None
                # hidden and restored since it was listed: its clock was set back
                or proposal.answered_at + proposal.adoption_paused
                >= now - settings.AGENDA_ANSWER_WITHIN
                or (
                    proposal.campaign is not None
                    and proposal.campaign.status in campaign_selectors.PUBLIC_STATUSES
                )
            ):
                continue
            ModerationAct.objects.create(
                proposal=proposal,
                action=ModerationAct.Action.LAPSE,
                organization=proposal.answered_by,
            )
            proposal.status = Proposal.Status.AWAITING
            proposal.submitted_at = proposal.submitted_at or now
            proposal.answer_due = now + settings.AGENDA_ANSWER_WITHIN
            proposal.answered_at = None
            proposal.adoption_paused = timedelta(0)
            proposal.answered_by = None
            proposal.answer_reason = ""
            proposal.campaign = None
            # The supporters told "adopted" hear that it lapsed (and later of the next answer).
            proposal.notices_pending = True
            proposal.notice_cursor = 0
            proposal.save()
            lapsed += 1
    return lapsed


# --- telling the supporters -------------------------------------------------------------------


def answer_notices_send(*, batch: int = NOTICE_BATCH) -> int:
    """Queue the answer's one message to each confirmed supporter who asked for it, in batches
    (a cursor on the support id makes a re-run continue, never repeat). Returns mails queued.

    One message per answer: a new answer, or the lapse of an adoption (the proposal is back
    before the members), starts the cursor again. A hidden proposal's notices wait for its
    restoration."""
    queued = 0
    for proposal_id in list(
        Proposal.objects.filter(notices_pending=True).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            proposal = (
                Proposal.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=proposal_id, notices_pending=True)
                .select_related("campaign", "answered_by")
                .first()
            )
            if proposal is None:
                continue
            context: dict[str, Any] = {"proposal": proposal}
            if proposal.status in Proposal.ANSWERED:
                kind = "answered"
            elif proposal.status == Proposal.Status.AWAITING:
                lapse = proposal.moderation.filter(action=ModerationAct.Action.LAPSE).first()
                lapsed_by = lapse.organization if lapse is not None else None
                kind, context["lapsed_by"] = "lapsed", lapsed_by
            else:
                continue  # hidden: no mail about it until it is restored
            supports = list(
                proposal.supports.filter(
                    status=Support.Status.CONFIRMED,
                    wants_answer=True,
                    pk__gt=proposal.notice_cursor,
                ).order_by("pk")[:batch]
            )
            for support in supports:
                _mail(
                    kind=kind,
                    to=support.email,
                    digest=support.email_digest,
                    language=support.language,
                    context={**context, "support": support},
                    list_scope=_answer_scope(proposal),
                    bulk=True,
                )
            queued += len(supports)
            if supports:
                proposal.notice_cursor = supports[-1].pk
            if len(supports) < batch:
                proposal.notices_pending = False
            proposal.save(update_fields=["notice_cursor", "notices_pending"])
    return queued


def _unsubscribed(digest: str, scope: str) -> None:
    """One-click unsubscribe from a proposal's answer (or from all such mail)."""
    supports = Support.objects.filter(email_digest=digest)
    if scope.startswith(ANSWER_SCOPE_PREFIX):
        supports = supports.filter(proposal_id=scope[len(ANSWER_SCOPE_PREFIX) :] or 0)
    supports.update(wants_answer=False)


# --- erasure and retention --------------------------------------------------------------------


def _forget_support(support: Support) -> None:
    if support.status == Support.Status.CONFIRMED:
        Proposal.objects.filter(pk=support.proposal_id, support_count__gt=0).update(
            support_count=F("support_count") - 1
        )
    support.delete()


def mailbox_erase(digest: str) -> int:
    """Erasure by mailbox digest (privacy's erasure hook): every support made with it is deleted
    and uncounted; a proposal it made that was never public is deleted whole; a public one keeps
    its text (others supported it) but no longer knows who proposed it."""
    erased = 0
    for support in Support.objects.select_for_update().filter(email_digest=digest):
        _forget_support(support)
        erased += 1
    proposals = Proposal.objects.select_for_update().filter(email_digest=digest)
    private = proposals.filter(
        status__in=[Proposal.Status.UNCONFIRMED, Proposal.Status.IN_REVIEW, Proposal.Status.HIDDEN]
    )
    deleted, _by_model = private.delete()
    erased += deleted
    erased += proposals.update(email="", email_digest="", wants_answer=False)
    return erased


def agenda_purge(*, now: datetime | None = None) -> int:
    """Retention: unconfirmed proposals and supports are deleted once their links expired;
    supporters' addresses of answered proposals go once the answer was sent and
    PERSONAL_DATA_RETENTION_AFTER_CLOSE passed (the counts stay)."""
    now = now or timezone.now()
    expired = now - settings.SIGNATURE_CONFIRM_WITHIN
    purged, _by_model = Proposal.objects.filter(
        status=Proposal.Status.UNCONFIRMED, created_at__lt=expired
    ).delete()
    supports, _by_model = Support.objects.filter(
        status=Support.Status.PENDING, created_at__lt=expired
    ).delete()
    cutoff = now - settings.PERSONAL_DATA_RETENTION_AFTER_CLOSE
    answered = Proposal.objects.filter(
        status__in=Proposal.ANSWERED, answered_at__lt=cutoff, notices_pending=False
    )
    old, _by_model = Support.objects.filter(proposal__in=answered).delete()
    cleared = answered.exclude(email="").update(email="", email_digest="", wants_answer=False)
    return purged + supports + old + cleared


def register() -> None:
    decision_effect_register(kind=Decision.Kind.AGENDA_ANSWER, effect=_decision_effect)
    unsubscribe_hook_register(scope_prefix=ANSWER_SCOPE_PREFIX, hook=_unsubscribed)
    erasure_hook_register(mailbox_erase)

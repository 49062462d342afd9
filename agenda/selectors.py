"""Reads of the emigre agenda. Public reads never carry anything about a person."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from django.db.models import Q, QuerySet
from django.utils import timezone

from agenda.models import AnswerMotion, ModerationAct, Proposal
from members.models import Organization

STATUS_FILTERS = ("open", "awaiting", "overdue", "adopted", "declined", "merged")


def proposals_public(*, status: str = "", issue_area: str = "") -> QuerySet[Proposal]:
    """Public proposals, without the proposer's contact columns (never read for a page)."""
    proposals = (
        Proposal.objects.filter(status__in=Proposal.PUBLIC)
        .select_related("issue_area", "answered_by", "campaign")
        .defer("email", "email_digest")
    )
    if status == "overdue":
        proposals = proposals.filter(status=Proposal.Status.AWAITING, answer_due__lt=timezone.now())
    elif status in STATUS_FILTERS:
        proposals = proposals.filter(status=status)
    if issue_area:
        proposals = proposals.filter(issue_area__slug=issue_area)
    return proposals.order_by("-published_at", "-pk")


def proposal_public(*, pk: int) -> Proposal | None:
    return proposals_public().filter(pk=pk).first()


def proposal_moderation(*, proposal: Proposal) -> QuerySet[ModerationAct]:
    return proposal.moderation.select_related("organization")


def proposal_motions(*, proposal: Proposal) -> QuerySet[AnswerMotion]:
    return proposal.motions.select_related("proposed_by", "objected_by", "campaign", "decision")


def hidden_count() -> int:
    return Proposal.objects.filter(status=Proposal.Status.HIDDEN).count()


def moderation_queue() -> QuerySet[Proposal]:
    return Proposal.objects.filter(status=Proposal.Status.IN_REVIEW).select_related("issue_area")


def hides_unconfirmed() -> QuerySet[Proposal]:
    """Proposals one organization hid that nobody confirmed yet (member moderators judge them)."""
    return (
        Proposal.objects.filter(status=Proposal.Status.HIDDEN, hide_confirmed=False)
        .exclude(hidden_at=None)
        .select_related("issue_area")
        .prefetch_related("moderation__organization")
        .order_by("hidden_at", "pk")
    )


def proposals_awaiting() -> QuerySet[Proposal]:
    return (
        Proposal.objects.filter(status=Proposal.Status.AWAITING)
        .select_related("issue_area")
        .order_by("answer_due", "pk")
    )


def motions_open() -> QuerySet[AnswerMotion]:
    return AnswerMotion.objects.filter(
        status__in=[AnswerMotion.Status.PENDING, AnswerMotion.Status.VOTING],
        proposal__status__in=[Proposal.Status.OPEN, Proposal.Status.AWAITING],
    ).select_related("proposal", "proposed_by", "decision", "campaign")


def _days(proposal: Proposal) -> float | None:
    start = proposal.submitted_at or proposal.published_at
    if start is None or proposal.answered_at is None:
        return None
    # Never negative: a proposal adopted before it was put to the members took no time.
    return max(0.0, (proposal.answered_at - start).total_seconds() / 86400)


@dataclass(frozen=True)
class AgendaSummary:
    open: int
    awaiting: int
    overdue: int
    answered: int
    median_days: float | None  # to answer, over every answered proposal
    adopted: list[Proposal]


def agenda_summary(*, organization: Organization | None = None) -> AgendaSummary:
    """The agenda at a glance; for one organization: what it adopted and how fast it was."""
    now = timezone.now()
    public = Proposal.objects.filter(status__in=Proposal.PUBLIC)
    answered = public.filter(status__in=Proposal.ANSWERED)
    if organization is not None:
        answered = answered.filter(answered_by=organization)
    durations = [
        d
        for d in (_days(p) for p in answered.only("submitted_at", "published_at", "answered_at"))
        if d is not None
    ]
    adopted = public.filter(status=Proposal.Status.ADOPTED).select_related(
        "answered_by", "campaign"
    )
    if organization is not None:
        adopted = adopted.filter(answered_by=organization)
    awaiting = public.filter(status=Proposal.Status.AWAITING)
    return AgendaSummary(
        open=public.filter(status=Proposal.Status.OPEN).count(),
        awaiting=awaiting.count(),
        overdue=awaiting.filter(Q(answer_due__lt=now)).count(),
        answered=answered.count(),
        median_days=round(median(durations), 1) if durations else None,
        adopted=list(adopted.order_by("-answered_at")[:10]),
    )

"""Reads about organizations, people and decisions. Views and templates use only these."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from members.models import Decision, Invitation, Membership, Organization, User, Vote


def organizations_members() -> QuerySet[Organization]:
    """Member organizations in neutral alphabetical order: no one is featured above another."""
    return Organization.objects.filter(status=Organization.Status.MEMBER).order_by(Lower("name"))


def organization_public(*, slug: str) -> Organization | None:
    """An organization whose profile is public: members, screened applicants, suspended ones.

    An application that staff have not screened yet is not public: its text has not been looked
    at by anyone, and the platform must not publish spam or defamation under its name.
    """
    return (
        Organization.objects.filter(slug=slug)
        .exclude(status__in=[Organization.Status.REJECTED, Organization.Status.SCREENING])
        .first()
    )


def organization_for_viewer(*, slug: str, user: User | AnonymousUser) -> Organization | None:
    """The profile as this person may see it: public ones, and their own organization always.

    The people of an application awaiting screening, or turned away, see its page and status.
    """
    organization = organization_public(slug=slug)
    if organization is not None or not user.is_authenticated:
        return organization
    return Organization.objects.filter(slug=slug, memberships__user=user).first()


def applications_by(*, user: User) -> QuerySet[Organization]:
    """Every application this account made, whatever became of it (the per-account cap)."""
    # Applications made before applied_by was recorded count through their first admin.
    return Organization.objects.filter(
        Q(applied_by=user)
        | Q(applied_by__isnull=True, memberships__user=user, memberships__role="admin")
    ).distinct()


def application_in_progress(*, user: User) -> Organization | None:
    """The account's application still being screened or voted on, if any (one at a time)."""
    return (
        applications_by(user=user)
        .filter(status__in=[Organization.Status.SCREENING, Organization.Status.APPLIED])
        .first()
    )


def organization_admins(*, organization: Organization) -> QuerySet[Membership]:
    return organization.memberships.filter(role=Membership.Role.ADMIN).select_related("user")


def organization_team(*, organization: Organization) -> QuerySet[Membership]:
    return organization.memberships.select_related("user").order_by("role", Lower("user__email"))


def organization_invitations_pending(*, organization: Organization) -> QuerySet[Invitation]:
    return organization.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def membership_for(*, user: User, organization: Organization) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, organization=organization).first()


def memberships_of(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by(Lower("organization__name"))
    )


def decision_electorate(*, decision: Decision) -> QuerySet[Organization]:
    """Who may vote: organizations that were members when the decision opened and still are.

    The organization a decision is about never votes on it.
    """
    electorate = organizations_members().filter(joined_at__lte=decision.opened_at)
    if decision.organization_id is not None:
        electorate = electorate.exclude(pk=decision.organization_id)
    return electorate


def decision_votes(*, decision: Decision) -> QuerySet[Vote]:
    return decision.votes.select_related("organization").order_by(Lower("organization__name"))


def decisions_ledger(*, status: str | None = None, kind: str | None = None) -> QuerySet[Decision]:
    decisions = Decision.objects.select_related("organization", "proposed_by")
    if status:
        decisions = decisions.filter(status=status)
    if kind:
        decisions = decisions.filter(kind=kind)
    return decisions.order_by("-opened_at", "-pk")


def decisions_awaiting_vote(*, user: User) -> list[tuple[Decision, Organization]]:
    """Open decisions on which an organization this person administers has not voted yet."""
    pairs: list[tuple[Decision, Organization]] = []
    admin_of = Organization.objects.filter(
        memberships__user=user,
        memberships__role=Membership.Role.ADMIN,
        status=Organization.Status.MEMBER,
    )
    for organization in admin_of:
        decisions = (
            Decision.objects.filter(
                status=Decision.Status.OPEN,
                deadline__gt=timezone.now(),
                opened_at__gte=organization.joined_at,
            )
            .exclude(organization=organization)
            .exclude(
                Exists(Vote.objects.filter(decision=OuterRef("pk"), organization=organization))
            )
            .order_by("deadline")
        )
        pairs.extend((decision, organization) for decision in decisions)
    return pairs


def organizations_voting_record(*, organization: Organization) -> QuerySet[Vote]:
    return (
        Vote.objects.filter(organization=organization)
        .exclude(decision__status=Decision.Status.WITHDRAWN)
        .select_related("decision")
        .order_by("-decision__opened_at")
    )


def organization_admission(*, organization: Organization) -> Decision | None:
    return (
        Decision.objects.filter(organization=organization, kind=Decision.Kind.ADMIT_MEMBER)
        .order_by("-opened_at")
        .first()
    )

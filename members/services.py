"""The only writers for people, organizations and coalition decisions.

Every function is atomic and raises MembershipError with a message a person can read; views
turn it into a form error. Emails are written to the outbox inside the same transaction.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from foundation.errors import DomainError
from foundation.ratelimit import keyed_hash
from foundation.sealed import public_key_parse
from members.models import Decision, Invitation, Membership, Organization, User, Vote
from members.selectors import (
    application_in_progress,
    applications_by,
    decision_electorate,
    organizations_members,
)
from outbox.services import email_enqueue_template


class MembershipError(DomainError):
    """A rule of the coalition was broken; the message is shown to the person who tried."""


# Other apps attach what a decision does once adopted (e.g. campaigns marks an endorsement).
DecisionEffect = Callable[[Decision], None]
_DECISION_EFFECTS: dict[str, DecisionEffect] = {}


def decision_effect_register(*, kind: str, effect: DecisionEffect) -> None:
    _DECISION_EFFECTS[kind] = effect


def organization_language(organization: Organization) -> str:
    """Coalition mail to an organization goes in the first of its languages we speak."""
    for code in organization.languages:
        if code in dict(settings.LANGUAGES):
            return str(code)
    return str(settings.LANGUAGE_CODE)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50].strip("-") or "organization"
    slug, n = base, 1
    # "staff" names the platform staff's view of every campaign's dashboard.
    while slug in {"staff", "apply"} or Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def organization_apply(
    *,
    user: User,
    name: str,
    country_of_registration: str,
    countries_of_operation: list[str],
    website: str,
    mission: str,
    languages: list[str],
    legal_status: str,
    funding_disclosure: str,
    contact_email: str,
) -> Organization:
    """An organization asks to join. The applicant becomes its first admin.

    The application waits for platform staff to screen it (`organization_screen`): only then is
    the coalition asked to vote and every member organization mailed, so an account cannot use
    applications to mail the whole coalition.
    """
    # One line, no control characters: the name appears in mail and on the ledger.
    name = " ".join(name.split())
    # Locking the applicant's row orders two simultaneous applications, so both cannot pass
    # the caps below.
    User.objects.select_for_update().filter(pk=user.pk).first()
    mine = applications_by(user=user)
    pending = application_in_progress(user=user)
    if pending is not None:
        raise MembershipError(
            _(
                "You already have an application in progress (%(name)s). You can apply for "
                "another organization once it has been decided."
            )
            % {"name": pending.name}
        )
    if mine.count() >= settings.APPLICATIONS_PER_ACCOUNT:
        raise MembershipError(
            _(
                "An account can apply for at most %(n)d organizations. Write to the platform "
                "staff if you need to apply again."
            )
            % {"n": settings.APPLICATIONS_PER_ACCOUNT}
        )
    if Organization.objects.filter(name__iexact=name).exists():
        raise MembershipError(_("An organization with this name has already applied."))
    organization = Organization.objects.create(
        name=name,
        slug=_unique_slug(name),
        country_of_registration=country_of_registration,
        countries_of_operation=countries_of_operation,  # type: ignore[misc]
        website=website,
        mission=mission,
        languages=languages,
        legal_status=legal_status,
        funding_disclosure=funding_disclosure,
        contact_email=contact_email,
        status=Organization.Status.SCREENING,
        applied_by=user,
    )
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.ADMIN)
    return organization


SCREENING_REASON_MAX = 300


@transaction.atomic
def organization_screen(
    *,
    organization: Organization,
    by: User | None,
    admit: bool,
    reason: str = "",
    now: datetime | None = None,
) -> Organization:
    """Platform staff screen a new application: put it to the coalition's vote, or turn it away.

    Screening only keeps spam and fraud off the ballot; the member organizations still decide on
    every real application. ``by`` is the staff member (None only for development commands).
    Turning an application away needs a reason, which the applicant sees on its page.
    """
    if by is not None and not by.is_staff:
        raise MembershipError(_("Only platform staff screen applications."))
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.status != Organization.Status.SCREENING:
        raise MembershipError(_("This application has already been screened."))
    reason = " ".join(reason.split())
    if not admit and not reason:
        raise MembershipError(_("Give the applicant a reason for turning the application away."))
    if len(reason) > SCREENING_REASON_MAX:
        raise MembershipError(
            _("Keep the reason under %(n)d characters.") % {"n": SCREENING_REASON_MAX}
        )
    now = now or timezone.now()
    organization.screened_at, organization.screened_by = now, by
    organization.screening_reason = "" if admit else reason
    organization.status = Organization.Status.APPLIED if admit else Organization.Status.REJECTED
    organization.save(update_fields=["screened_at", "screened_by", "screening_reason", "status"])
    if admit:
        decision_open(
            kind=Decision.Kind.ADMIT_MEMBER,
            title=_("Admit %(name)s to the coalition") % {"name": organization.name},
            description=organization.mission,
            organization=organization,
            proposed_by=organization,
            now=now,
        )
    return organization


@transaction.atomic
def organization_admit_founding(
    *, organization: Organization, now: datetime | None = None
) -> Decision:
    """Admit a founding member without a vote: the coalition has to start somewhere.

    The admission is still recorded in the public ledger, marked as a founding admission.
    """
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.status == Organization.Status.MEMBER:
        raise MembershipError(_("%(name)s is already a member.") % {"name": organization.name})
    now = now or timezone.now()
    decision = (
        Decision.objects.select_for_update()
        .filter(organization=organization, kind=Decision.Kind.ADMIT_MEMBER, status="open")
        .first()
    )
    if decision is None:
        decision = Decision(
            kind=Decision.Kind.ADMIT_MEMBER,
            title=_("Admit %(name)s to the coalition") % {"name": organization.name},
            description=organization.mission,
            organization=organization,
            proposed_by=organization,
            opened_at=now,
            deadline=now,
        )
    # A founding admission is decided the moment it is recorded: no voting period.
    decision.opened_at = decision.deadline = now
    decision.status = Decision.Status.CLOSED
    decision.outcome = Decision.Outcome.FOUNDING
    decision.outcome_code = "founding"
    decision.outcome_reason = "Admitted as a founding member of the coalition."
    decision.closed_at = now
    decision.save()
    organization.status = Organization.Status.MEMBER
    organization.joined_at = now
    organization.save(update_fields=["status", "joined_at"])
    return decision


# --- Team: invitations and roles ------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *, organization: Organization, email: str, role: str, invited_by: User
) -> tuple[Invitation, str]:
    """Invite a colleague by email. Returns the invitation and the one-time token to email."""
    email = email.strip()
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise MembershipError(_("This person is already part of the organization."))
    if role not in Membership.Role.values:
        raise MembershipError(_("Choose a valid role."))
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        token_hash=keyed_hash("invitation:" + token),
        invited_by=invited_by,
        expires_at=timezone.now() + settings.INVITATION_VALID_FOR,
    )
    email_enqueue_template(
        kind="members.invitation",
        to=email,
        template="members/email/invitation",
        context={
            "organization": organization,
            "role": invitation.get_role_display(),
            "inviter": invited_by.email,
            "url": settings.SITE_URL + reverse("members:invitation", kwargs={"token": token}),
            "expires_at": invitation.expires_at,
        },
        language=translation.get_language(),
    )
    return invitation, token


def invitation_by_token(*, token: str) -> Invitation | None:
    return (
        Invitation.objects.select_related("organization")
        .filter(token_hash=keyed_hash("invitation:" + token))
        .first()
    )


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = (
        Invitation.objects.select_for_update()
        .filter(token_hash=keyed_hash("invitation:" + token))
        .first()
    )
    if invitation is None or not invitation.is_pending:
        raise MembershipError(_("This invitation is no longer valid. Ask for a new one."))
    if invitation.email.lower() != user.email.lower():
        raise MembershipError(
            _("This invitation was sent to another email address. Sign in with that address.")
        )
    if Membership.objects.filter(user=user, organization=invitation.organization).exists():
        raise MembershipError(_("You are already part of this organization."))
    membership = Membership.objects.create(
        user=user, organization=invitation.organization, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _lock_admins(organization: Organization) -> list[Membership]:
    # Locking every admin row serializes concurrent demotions, so two admins can't remove each
    # other at the same moment and leave the organization with none.
    return list(
        Membership.objects.select_for_update()
        .filter(organization=organization, role=Membership.Role.ADMIN)
        .order_by("pk")
    )


@transaction.atomic
def organization_export_key_set(*, organization: Organization, public_key: str) -> Organization:
    """Register (or, with an empty value, remove) the key supporter exports are sealed to."""
    public_key = public_key.strip()
    if public_key:
        try:
            public_key_parse(public_key)
        except ValueError as exc:
            raise MembershipError(str(exc)) from exc
    organization.export_public_key = public_key
    organization.save(update_fields=["export_public_key"])
    return organization


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    if role not in Membership.Role.values:
        raise MembershipError(_("Choose a valid role."))
    admins = _lock_admins(membership.organization)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Membership.Role.ADMIN and role != Membership.Role.ADMIN:
        if len(admins) <= 1:
            raise MembershipError(
                _("The last admin cannot be demoted. Make someone else an admin first.")
            )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Remove a person from an organization (also used when someone leaves)."""
    admins = _lock_admins(membership.organization)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Membership.Role.ADMIN and len(admins) <= 1:
        raise MembershipError(
            _("The last admin cannot leave or be removed. Make someone else an admin first.")
        )
    membership.delete()


# --- Decisions: one organization, one vote ---------------------------------------------------


@transaction.atomic
def decision_open(
    *,
    kind: str,
    title: str,
    description: str = "",
    organization: Organization | None = None,
    proposed_by: Organization | None = None,
    now: datetime | None = None,
) -> Decision:
    now = now or timezone.now()
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                kind=kind,
                title=title,
                description=description,
                organization=organization,
                proposed_by=proposed_by,
                opened_at=now,
                deadline=now + settings.DECISION_DEADLINE,
            )
    except IntegrityError as exc:
        raise MembershipError(
            _("A decision of this kind about this organization is already open.")
        ) from exc
    for member in decision_electorate(decision=decision):
        email_enqueue_template(
            kind="members.decision_opened",
            to=member.contact_email,
            template="members/email/decision_opened",
            context={"decision": decision, "organization": member},
            language=organization_language(member),
        )
    return decision


@transaction.atomic
def vote_cast(
    *,
    decision: Decision,
    organization: Organization,
    user: User,
    choice: str,
    reason: str = "",
    now: datetime | None = None,
) -> Vote:
    """Cast or change an organization's single vote, until the deadline."""
    now = now or timezone.now()
    # The decision row lock orders this vote against the closing job: no vote lands after it.
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if decision.status != Decision.Status.OPEN or now >= decision.deadline:
        raise MembershipError(_("Voting on this decision has closed."))
    if not decision_electorate(decision=decision).filter(pk=organization.pk).exists():
        raise MembershipError(_("%(name)s cannot vote on this decision.") % {"name": organization})
    if not Membership.objects.filter(
        user=user, organization=organization, role=Membership.Role.ADMIN
    ).exists():
        raise MembershipError(_("Only an admin of the organization can vote for it."))
    if choice not in Vote.Choice.values:
        raise MembershipError(_("Choose how your organization votes."))
    reason = reason.strip()
    if choice == Vote.Choice.BLOCK and not reason:
        raise MembershipError(_("A block needs a reason that the coalition can read."))
    vote = Vote.objects.select_for_update().filter(decision=decision, organization=organization)
    existing = vote.first()
    if existing is None:
        return Vote.objects.create(
            decision=decision,
            organization=organization,
            choice=choice,
            reason=reason,
            cast_by=user,
            cast_at=now,
        )
    existing.choice, existing.reason, existing.cast_by = choice, reason, user
    existing.changed_at = now
    existing.save(update_fields=["choice", "reason", "cast_by", "changed_at"])
    return existing


def decision_tally(*, decision: Decision) -> dict[str, int]:
    electorate = decision_electorate(decision=decision)
    counts = dict(
        decision.votes.filter(organization__in=electorate)
        .values_list("choice")
        .annotate(n=Count("pk"))
        .values_list("choice", "n")
    )
    return {
        "eligible": electorate.count(),
        **{choice: counts.get(choice, 0) for choice in Vote.Choice.values},
    }


def decision_rule(tally: dict[str, int]) -> tuple[str, str, str]:
    """Apply the coalition's rule to a tally: (outcome, rule code, reason in plain words)."""
    cast = sum(tally[choice] for choice in Vote.Choice.values)
    needed = math.ceil(tally["eligible"] * settings.DECISION_QUORUM)
    if tally[Vote.Choice.BLOCK]:
        return (
            Decision.Outcome.REJECTED,
            "blocked",
            _("Blocked by %(n)d organization(s).") % {"n": tally[Vote.Choice.BLOCK]},
        )
    if cast < needed or tally["eligible"] == 0:
        return (
            Decision.Outcome.REJECTED,
            "no_quorum",
            _("No quorum: %(cast)d of %(eligible)d organizations voted, %(needed)d needed.")
            % {"cast": cast, "eligible": tally["eligible"], "needed": needed},
        )
    agree, disagree = tally[Vote.Choice.AGREE], tally[Vote.Choice.DISAGREE]
    if agree <= settings.DECISION_THRESHOLD * (agree + disagree) or agree == 0:
        return (
            Decision.Outcome.REJECTED,
            "not_enough",
            _("Not enough support: %(agree)d agreed, %(disagree)d disagreed.")
            % {"agree": agree, "disagree": disagree},
        )
    return (
        Decision.Outcome.ADOPTED,
        "adopted",
        _("Adopted: %(agree)d agreed, %(disagree)d disagreed, %(abstain)d abstained.")
        % {"agree": agree, "disagree": disagree, "abstain": tally[Vote.Choice.ABSTAIN]},
    )


@transaction.atomic
def decision_close(*, decision: Decision, now: datetime | None = None) -> Decision:
    """Close a decision at its deadline, record the outcome, apply it and tell the members."""
    now = now or timezone.now()
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if decision.status != Decision.Status.OPEN:
        return decision  # already closed by another run: closing is safe to repeat
    if now < decision.deadline:
        raise MembershipError(_("This decision is open until its deadline."))
    tally = decision_tally(decision=decision)
    with translation.override("en"):  # the stored reason is the English record
        decision.outcome, decision.outcome_code, decision.outcome_reason = decision_rule(tally)
    decision.quorum_needed = math.ceil(tally["eligible"] * settings.DECISION_QUORUM)
    decision.eligible_count = tally["eligible"]
    decision.agree_count = tally[Vote.Choice.AGREE]
    decision.disagree_count = tally[Vote.Choice.DISAGREE]
    decision.abstain_count = tally[Vote.Choice.ABSTAIN]
    decision.block_count = tally[Vote.Choice.BLOCK]
    decision.status = Decision.Status.CLOSED
    decision.closed_at = now
    decision.save()
    _decision_apply(decision, now)
    recipients = {org.pk: org for org in organizations_members()}
    if decision.organization is not None:
        recipients[decision.organization.pk] = decision.organization
    for organization in recipients.values():
        email_enqueue_template(
            kind="members.decision_closed",
            to=organization.contact_email,
            template="members/email/decision_closed",
            context={"decision": decision, "organization": organization},
            language=organization_language(organization),
        )
    return decision


def _decision_apply(decision: Decision, now: datetime) -> None:
    subject = decision.organization
    adopted = decision.outcome == Decision.Outcome.ADOPTED
    if decision.kind == Decision.Kind.ADMIT_MEMBER and subject is not None:
        subject.status = Organization.Status.MEMBER if adopted else Organization.Status.REJECTED
        subject.joined_at = now if adopted else None
        subject.save(update_fields=["status", "joined_at"])
    elif decision.kind == Decision.Kind.SUSPEND_MEMBER and subject is not None and adopted:
        subject.status = Organization.Status.SUSPENDED
        subject.save(update_fields=["status"])
    effect = _DECISION_EFFECTS.get(decision.kind)
    if effect is not None:
        effect(decision)


def decisions_close_due(*, now: datetime | None = None) -> int:
    """Close every decision past its deadline; each in its own transaction."""
    now = now or timezone.now()
    closed = 0
    due = Decision.objects.filter(status=Decision.Status.OPEN, deadline__lte=now)
    for decision_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            locked = (
                Decision.objects.select_for_update(skip_locked=True)
                .filter(pk=decision_id, status=Decision.Status.OPEN)
                .first()
            )
            if locked is None:
                continue
            decision_close(decision=locked, now=now)
            closed += 1
    return closed


@transaction.atomic
def decision_propose(
    *,
    kind: str,
    proposed_by: Organization,
    user: User,
    title: str,
    description: str,
    organization: Organization | None = None,
) -> Decision:
    """A member organization puts a question to the whole coalition."""
    if not proposed_by.is_member:
        raise MembershipError(_("Only member organizations can propose decisions."))
    if not Membership.objects.filter(
        user=user, organization=proposed_by, role=Membership.Role.ADMIN
    ).exists():
        raise MembershipError(_("Only an admin of the organization can propose for it."))
    if kind == Decision.Kind.SUSPEND_MEMBER:
        if organization is None or not organization.is_member:
            raise MembershipError(_("Choose a member organization to suspend."))
        if organization.pk == proposed_by.pk:
            raise MembershipError(_("An organization cannot propose its own suspension."))
    elif kind == Decision.Kind.AMEND_CHARTER:
        organization = None
    else:
        raise MembershipError(_("This kind of decision cannot be proposed here."))
    return decision_open(
        kind=kind,
        title=title,
        description=description,
        organization=organization,
        proposed_by=proposed_by,
    )


@transaction.atomic
def organization_withdraw_application(*, organization: Organization, reason: str) -> None:
    """Platform staff moderation: take a spam or fraudulent application off the ballot.

    Staff never vote; this only removes an application that is not a real organization.
    """
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.status not in {Organization.Status.SCREENING, Organization.Status.APPLIED}:
        raise MembershipError(_("Only pending applications can be withdrawn."))
    now = timezone.now()
    Decision.objects.filter(
        organization=organization, kind=Decision.Kind.ADMIT_MEMBER, status=Decision.Status.OPEN
    ).update(status=Decision.Status.WITHDRAWN, closed_at=now, outcome_reason=reason[:300])
    organization.status = Organization.Status.REJECTED
    organization.save(update_fields=["status"])

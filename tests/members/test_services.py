from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from members import services
from members.models import Decision, Invitation, Membership, Organization, Vote
from members.selectors import decision_electorate
from outbox.models import Email
from tests.factories import (
    MemberOrganizationFactory,
    OrganizationFactory,
    UserFactory,
    make_admin,
    make_member,
)

pytestmark = pytest.mark.django_db


def _application(user, name="Riga Help Desk"):
    """An application as the applicant sends it: awaiting screening."""
    return services.organization_apply(
        user=user,
        name=name,
        country_of_registration="LV",
        countries_of_operation=["LV", "EE"],
        website="https://riga.example.org/",
        mission="Helping emigres open bank accounts.",
        languages=["ru", "en"],
        legal_status=Organization.LegalStatus.NGO,
        funding_disclosure="Donations.",
        contact_email="riga@example.org",
    )


def _apply(user, name="Riga Help Desk"):
    """An application that staff have screened in: the coalition's vote is open."""
    return services.organization_screen(
        organization=_application(user, name), by=UserFactory(is_staff=True), admit=True
    )


def _admin(organization):
    return organization.memberships.get(role=Membership.Role.ADMIN).user


def _vote(decision, organization, choice, reason=""):
    return services.vote_cast(
        decision=decision,
        organization=organization,
        user=_admin(organization),
        choice=choice,
        reason=reason,
    )


def test_application_waits_for_screening_and_mails_nobody(
    members, django_capture_on_commit_callbacks
):
    applicant = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        organization = _application(applicant, name="Win a prize at evil.example NOW")
    assert organization.status == Organization.Status.SCREENING
    assert organization.applied_by == applicant
    assert Membership.objects.get(organization=organization).user == applicant
    assert Membership.objects.get(organization=organization).role == Membership.Role.ADMIN
    assert not Decision.objects.exists()
    assert not Email.objects.exists()
    assert mail.outbox == []


def test_screened_application_opens_the_vote_and_mails_members_our_subject(
    members, django_capture_on_commit_callbacks
):
    staff = UserFactory(is_staff=True)
    organization = _application(UserFactory(), name="Win a prize at evil.example NOW")
    with django_capture_on_commit_callbacks(execute=True):
        services.organization_screen(organization=organization, by=staff, admit=True)
    organization.refresh_from_db()
    assert organization.status == Organization.Status.APPLIED
    assert (organization.screened_by, organization.screening_reason) == (staff, "")
    decision = Decision.objects.get(organization=organization)
    assert decision.kind == Decision.Kind.ADMIT_MEMBER
    assert decision.status == Decision.Status.OPEN
    assert decision.opened_at == organization.screened_at
    assert decision.deadline - decision.opened_at == timedelta(days=7)
    # every member organization is told that a vote is open, under a subject of ours
    notified = set(
        Email.objects.filter(kind="members.decision_opened").values_list("to", flat=True)
    )
    assert notified == {m.contact_email for m in members}
    assert len(mail.outbox) == 4
    for message in mail.outbox:  # the members work in Russian first
        assert message.subject == "Решение коалиции открыто для голосования: Приём в коалицию"
        assert "Win a prize at evil.example NOW" in message.body


def test_name_in_the_members_mail_is_plain_text_and_cut_short(members):
    """An applicant's name goes into a plain-text mail (no HTML part, so no markup in it does
    anything) as written, not HTML-escaped: "A & B" must not reach members as "A &amp; B"."""
    organization = _application(UserFactory(), name="A & B <b>" + "x" * 110)
    services.organization_screen(organization=organization, by=None, admit=True)
    email = Email.objects.filter(kind="members.decision_opened").first()
    body = email.body_text
    assert email.body_html == ""
    assert "A & B <b>" in body and "&amp;" not in body
    assert "x" * 110 + " to the coalition" not in body  # the title is cut at 140 characters
    assert "x…" in body


def test_screening_rejection_needs_a_reason_and_opens_no_vote(members):
    organization = _application(UserFactory())
    staff = UserFactory(is_staff=True)
    with pytest.raises(services.MembershipError, match="reason"):
        services.organization_screen(organization=organization, by=staff, admit=False, reason=" ")
    organization.refresh_from_db()
    assert organization.status == Organization.Status.SCREENING
    services.organization_screen(
        organization=organization, by=staff, admit=False, reason="Not an organization."
    )
    organization.refresh_from_db()
    assert organization.status == Organization.Status.REJECTED
    assert organization.screening_reason == "Not an organization."
    assert not Decision.objects.exists()
    assert not Email.objects.exists()


def test_only_staff_screen_and_only_once(members):
    organization = _application(UserFactory())
    with pytest.raises(services.MembershipError, match="staff"):
        services.organization_screen(organization=organization, by=UserFactory(), admit=True)
    staff = UserFactory(is_staff=True)
    services.organization_screen(organization=organization, by=staff, admit=True)
    with pytest.raises(services.MembershipError, match="already been screened"):
        services.organization_screen(organization=organization, by=staff, admit=True)
    assert Decision.objects.count() == 1


def test_one_pending_application_per_account(members):
    applicant = UserFactory()
    _application(applicant, name="First Org")
    with pytest.raises(services.MembershipError, match="already have an application"):
        _application(applicant, name="Second Org")
    assert not Organization.objects.filter(name="Second Org").exists()


def test_applications_per_account_are_capped_for_life(members, settings):
    settings.APPLICATIONS_PER_ACCOUNT = 2
    applicant, staff = UserFactory(), UserFactory(is_staff=True)
    for name in ["First Org", "Second Org"]:
        services.organization_screen(
            organization=_application(applicant, name=name), by=staff, admit=False, reason="Spam."
        )
    with pytest.raises(services.MembershipError, match="at most 2"):
        _application(applicant, name="Third Org")
    assert not Organization.objects.filter(name="Third Org").exists()


def test_second_application_with_same_name_is_rejected(members):
    _apply(UserFactory(), name="Riga Help Desk")
    with pytest.raises(services.MembershipError):
        _apply(UserFactory(), name="riga help desk")
    assert Organization.objects.filter(name__iexact="riga help desk").count() == 1


def test_each_member_organization_has_exactly_one_vote(members):
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    _vote(decision, members[0], Vote.Choice.AGREE)
    _vote(decision, members[0], Vote.Choice.DISAGREE)  # changing, not adding
    assert decision.votes.count() == 1
    assert decision.votes.get().choice == Vote.Choice.DISAGREE
    second_admin = make_admin(members[0])
    services.vote_cast(
        decision=decision, organization=members[0], user=second_admin, choice=Vote.Choice.AGREE
    )
    assert decision.votes.count() == 1
    assert decision.votes.get().cast_by == second_admin


def test_database_refuses_a_second_vote_row_from_one_organization(members):
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    _vote(decision, members[0], Vote.Choice.AGREE)
    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(decision=decision, organization=members[0], choice="agree")


def test_vote_after_deadline_is_rejected(members):
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    with pytest.raises(services.MembershipError, match="closed"):
        services.vote_cast(
            decision=decision,
            organization=members[0],
            user=_admin(members[0]),
            choice=Vote.Choice.AGREE,
            now=decision.deadline + timedelta(seconds=1),
        )
    assert not decision.votes.exists()


@pytest.mark.parametrize("role", [Membership.Role.EDITOR, Membership.Role.VIEWER])
def test_vote_by_non_admin_is_rejected(members, role):
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    person = make_member(members[0], role)
    with pytest.raises(services.MembershipError, match="admin"):
        services.vote_cast(
            decision=decision, organization=members[0], user=person, choice=Vote.Choice.AGREE
        )
    assert not decision.votes.exists()


def test_vote_by_non_member_organization_is_rejected(members):
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    outsider = OrganizationFactory()  # applied, not admitted
    admin = make_admin(outsider)
    with pytest.raises(services.MembershipError, match="cannot vote"):
        services.vote_cast(
            decision=decision, organization=outsider, user=admin, choice=Vote.Choice.AGREE
        )


def test_applicant_cannot_vote_on_its_own_admission(members):
    applicant = UserFactory()
    organization = _apply(applicant)
    decision = Decision.objects.get(organization=organization)
    with pytest.raises(services.MembershipError):
        services.vote_cast(
            decision=decision, organization=organization, user=applicant, choice="agree"
        )


def test_block_requires_a_reason(members):
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    with pytest.raises(services.MembershipError, match="reason"):
        _vote(decision, members[0], Vote.Choice.BLOCK, reason="   ")
    assert not decision.votes.exists()


def test_staff_never_count_toward_quorum(members):
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    UserFactory(is_staff=True, is_superuser=True)
    assert decision_electorate(decision=decision).count() == 4


def test_organizations_admitted_after_opening_do_not_vote(members):
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    late = MemberOrganizationFactory(joined_at=timezone.now() + timedelta(minutes=1))
    assert late not in decision_electorate(decision=decision)


def _close(decision):
    return services.decision_close(decision=decision, now=decision.deadline)


def test_majority_with_quorum_admits_the_organization(members, django_capture_on_commit_callbacks):
    organization = _apply(UserFactory())
    decision = Decision.objects.get(organization=organization)
    _vote(decision, members[0], Vote.Choice.AGREE)
    _vote(decision, members[1], Vote.Choice.ABSTAIN)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decision = _close(decision)
    organization.refresh_from_db()
    assert decision.outcome == Decision.Outcome.ADOPTED
    assert (decision.eligible_count, decision.agree_count, decision.abstain_count) == (4, 1, 1)
    assert organization.status == Organization.Status.MEMBER
    assert organization.joined_at == decision.closed_at
    recipients = {message.to[0] for message in mail.outbox}
    assert recipients == {m.contact_email for m in members} | {"riga@example.org"}


def test_no_quorum_rejects(members):
    organization = _apply(UserFactory())
    decision = Decision.objects.get(organization=organization)
    _vote(decision, members[0], Vote.Choice.AGREE)  # 1 of 4 < half
    decision = _close(decision)
    organization.refresh_from_db()
    assert decision.outcome == Decision.Outcome.REJECTED
    assert "quorum" in decision.outcome_reason.lower()
    assert organization.status == Organization.Status.REJECTED


def test_a_single_block_rejects_despite_majority(members):
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    for organization in members[:3]:
        _vote(decision, organization, Vote.Choice.AGREE)
    _vote(decision, members[3], Vote.Choice.BLOCK, reason="Funding is not disclosed honestly.")
    decision = _close(decision)
    assert decision.outcome == Decision.Outcome.REJECTED
    assert "Blocked" in decision.outcome_reason


def test_tie_between_agree_and_disagree_rejects(members):
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    _vote(decision, members[0], Vote.Choice.AGREE)
    _vote(decision, members[1], Vote.Choice.DISAGREE)
    assert _close(decision).outcome == Decision.Outcome.REJECTED


def test_quorum_and_threshold_are_settings(members, settings):
    settings.DECISION_QUORUM = 1.0
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    for organization in members[:3]:
        _vote(decision, organization, Vote.Choice.AGREE)
    assert _close(decision).outcome == Decision.Outcome.REJECTED  # 3 of 4 < 100 %


def test_decision_cannot_close_before_deadline(members):
    decision = Decision.objects.get(organization=_apply(UserFactory()))
    with pytest.raises(services.MembershipError):
        services.decision_close(decision=decision)
    decision.refresh_from_db()
    assert decision.status == Decision.Status.OPEN


def test_closing_due_decisions_is_safe_to_run_twice(members):
    due = Decision.objects.get(organization=_apply(UserFactory()))
    not_due = Decision.objects.get(organization=_apply(UserFactory(), name="Other"))
    Decision.objects.filter(pk=due.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    assert services.decisions_close_due() == 1
    closed_emails = Email.objects.filter(kind="members.decision_closed").count()
    assert services.decisions_close_due() == 0
    assert Email.objects.filter(kind="members.decision_closed").count() == closed_emails
    due.refresh_from_db()
    not_due.refresh_from_db()
    assert due.status == Decision.Status.CLOSED
    assert not_due.status == Decision.Status.OPEN


def test_founding_admission_is_recorded_in_the_ledger(db):
    organization = _apply(UserFactory())
    decision = services.organization_admit_founding(organization=organization)
    organization.refresh_from_db()
    assert organization.status == Organization.Status.MEMBER
    assert decision.outcome == Decision.Outcome.FOUNDING
    assert Decision.objects.filter(organization=organization).count() == 1
    with pytest.raises(services.MembershipError):
        services.organization_admit_founding(organization=organization)


def test_suspension_proposal_suspends_when_adopted(members):
    decision = services.decision_propose(
        kind=Decision.Kind.SUSPEND_MEMBER,
        proposed_by=members[0],
        user=_admin(members[0]),
        title="Suspend a member",
        description="It impersonated another organization.",
        organization=members[3],
    )
    assert members[3] not in decision_electorate(decision=decision)
    for organization in members[:3]:
        _vote(decision, organization, Vote.Choice.AGREE)
    _close(decision)
    members[3].refresh_from_db()
    assert members[3].status == Organization.Status.SUSPENDED


def test_organization_cannot_propose_its_own_suspension(members):
    with pytest.raises(services.MembershipError):
        services.decision_propose(
            kind=Decision.Kind.SUSPEND_MEMBER,
            proposed_by=members[0],
            user=_admin(members[0]),
            title="x",
            description="y",
            organization=members[0],
        )
    assert not Decision.objects.exists()


# --- team -----------------------------------------------------------------------------------


def test_last_admin_cannot_leave_or_be_demoted(members):
    membership = members[0].memberships.get()
    with pytest.raises(services.MembershipError, match="last admin"):
        services.membership_remove(membership=membership)
    with pytest.raises(services.MembershipError, match="last admin"):
        services.membership_change_role(membership=membership, role=Membership.Role.VIEWER)
    membership.refresh_from_db()
    assert membership.role == Membership.Role.ADMIN


def test_an_admin_can_leave_when_another_admin_remains(members):
    make_admin(members[0])
    first = members[0].memberships.order_by("pk").first()
    services.membership_remove(membership=first)
    assert members[0].memberships.filter(role=Membership.Role.ADMIN).count() == 1


def test_invitation_is_accepted_by_the_invited_address_only(
    members, django_capture_on_commit_callbacks
):
    admin = _admin(members[0])
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = services.invitation_create(
            organization=members[0], email="Colleague@Example.org", role="editor", invited_by=admin
        )
    assert invitation.token_hash != token  # only a keyed hash is stored
    message = mail.outbox[-1]
    assert token in message.body
    stranger = UserFactory(email="stranger@example.org")
    with pytest.raises(services.MembershipError, match="another email"):
        services.invitation_accept(token=token, user=stranger)
    colleague = UserFactory(email="colleague@example.org")
    membership = services.invitation_accept(token=token, user=colleague)
    assert membership.role == Membership.Role.EDITOR
    with pytest.raises(services.MembershipError, match="no longer valid"):
        services.invitation_accept(token=token, user=colleague)


def test_expired_or_revoked_invitation_is_refused(members):
    admin = _admin(members[0])
    colleague = UserFactory()
    invitation, token = services.invitation_create(
        organization=members[0], email=colleague.email, role="viewer", invited_by=admin
    )
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with pytest.raises(services.MembershipError):
        services.invitation_accept(token=token, user=colleague)
    invitation2, token2 = services.invitation_create(
        organization=members[0], email=colleague.email, role="viewer", invited_by=admin
    )
    services.invitation_revoke(invitation=invitation2)
    with pytest.raises(services.MembershipError):
        services.invitation_accept(token=token2, user=colleague)
    assert not Membership.objects.filter(user=colleague).exists()

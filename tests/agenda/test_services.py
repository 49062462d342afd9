"""The emigre agenda's rules, service by service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import LazySettings
from django.utils import timezone

from agenda import selectors, services
from agenda.models import AnswerMotion, ModerationAct, Proposal, Support
from campaigns.models import Campaign, CoSponsorship, IssueArea
from members import services as member_services
from members.models import Decision, Vote
from outbox.models import Email
from outbox.suppression import ALL, suppression_add, unsubscribe
from privacy import services as privacy_services
from tests.agenda.conftest import (
    PROPOSER,
    Coalition,
    confirm_link_token,
    open_proposal,
    propose,
    support,
)

pytestmark = pytest.mark.django_db


# --- proposing and confirming -------------------------------------------------------------------


def test_a_proposal_is_private_until_confirmed_and_moderated(
    area: IssueArea, coalition: Coalition
) -> None:
    proposal = propose(area)
    mail = Email.objects.get(kind="agenda.proposal_confirm")
    assert mail.to == PROPOSER
    assert "/privacy/erase/" in mail.body_text or "erase" in mail.body_text
    assert selectors.proposal_public(pk=proposal.pk) is None

    services.link_confirm(token=confirm_link_token(mail))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.IN_REVIEW
    assert proposal.support_count == 1  # the proposer's own support
    assert selectors.proposal_public(pk=proposal.pk) is None

    services.proposal_publish(proposal=proposal, organization=coalition.a, user=coalition.editor_a)
    assert selectors.proposal_public(pk=proposal.pk) is not None
    act = ModerationAct.objects.get(proposal=proposal)
    assert (act.action, act.organization) == (ModerationAct.Action.PUBLISH, coalition.a)


def test_following_the_confirmation_link_twice_counts_once(area: IssueArea) -> None:
    proposal = propose(area)
    token = services.token_make("p", proposal.pk)
    services.link_confirm(token=token)
    services.link_confirm(token=token)
    proposal.refresh_from_db()
    assert proposal.support_count == 1
    assert Support.objects.filter(proposal=proposal).count() == 1


def test_a_forged_or_expired_link_confirms_nothing(area: IssueArea, settings: LazySettings) -> None:
    proposal = propose(area)
    with pytest.raises(services.AgendaError):
        services.link_confirm(token="forged")
    settings.SIGNATURE_CONFIRM_WITHIN = timedelta(seconds=-1)
    with pytest.raises(services.AgendaError):
        services.link_confirm(token=services.token_make("p", proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.UNCONFIRMED


def test_the_proposer_contact_is_encrypted_at_rest(area: IssueArea) -> None:
    from django.db import connection

    proposal = propose(area)
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM agenda_proposal WHERE id = %s", [proposal.pk])
        stored = cursor.fetchone()[0]
    assert PROPOSER not in stored


def test_a_mailbox_over_its_daily_mail_cap_gets_nothing_more(
    area: IssueArea, settings: LazySettings
) -> None:
    settings.SIGNATURE_MAILS_PER_MAILBOX = 2
    propose(area)
    propose(area, email="Vera.Proposer+again@example.org")
    assert (
        services.proposal_create(
            title="Third", description="Text", issue_area=area, countries=["DE"], email=PROPOSER
        )
        is None
    )
    assert Email.objects.filter(kind="agenda.proposal_confirm").count() == 2


# --- supporting ---------------------------------------------------------------------------------


def test_supports_count_only_once_confirmed_and_once_per_mailbox(
    area: IssueArea, coalition: Coalition, settings: LazySettings
) -> None:
    settings.SIGNATURE_RESEND_COOLDOWN = timedelta(0)
    proposal = open_proposal(area, coalition)
    services.support_create(proposal=proposal, email="anna.k@gmail.com")
    proposal.refresh_from_db()
    assert proposal.support_count == 1  # pending: not counted
    pending = Support.objects.get(proposal=proposal, is_proposer=False)
    # Other spellings of the same mailbox write nothing new: a new mail to the mailbox only.
    services.support_create(proposal=proposal, email="Anna.K+agenda@googlemail.com")
    assert Support.objects.filter(proposal=proposal).count() == 2
    services.link_confirm(token=services.token_make("s", pending.pk))
    services.support_create(proposal=proposal, email="annak@gmail.com")
    proposal.refresh_from_db()
    assert proposal.support_count == 2
    kinds = list(
        Email.objects.filter(recipient_digest=pending.email_digest)
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == ["agenda.support_confirm", "agenda.support_confirm", "agenda.support_already"]


def test_a_repeat_support_answers_like_a_new_one(area: IssueArea, coalition: Coalition) -> None:
    proposal = open_proposal(area, coalition)
    first = services.support_create(proposal=proposal, email="boris@example.net")
    again = services.support_create(proposal=proposal, email="boris@example.net")
    assert first is None and again is None  # nothing to tell the caller either way


def test_a_proposal_in_review_takes_no_support(area: IssueArea) -> None:
    proposal = propose(area)
    services.link_confirm(token=services.token_make("p", proposal.pk))
    with pytest.raises(services.AgendaError):
        services.support_create(proposal=proposal, email="x@example.org")
    assert not Support.objects.filter(is_proposer=False).exists()


# --- before the member organizations ------------------------------------------------------------


def test_the_threshold_puts_it_before_every_member_admin_with_a_due_date(
    area: IssueArea, coalition: Coalition, threshold: int, settings: LazySettings
) -> None:
    settings.AGENDA_ANSWER_WITHIN = timedelta(days=30)
    proposal = open_proposal(area, coalition)
    support(proposal, "one@example.org")
    assert not Email.objects.filter(kind="agenda.submitted").exists()
    support(proposal, "two@example.org")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING
    assert proposal.answer_due == proposal.submitted_at + timedelta(days=30)
    notified = set(Email.objects.filter(kind="agenda.submitted").values_list("to", flat=True))
    assert notified == {
        coalition.admin_a.email,
        coalition.admin_b.email,
        coalition.admin_c.email,
    }


def test_an_awaiting_proposal_past_its_due_date_is_overdue(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = open_proposal(area, coalition)
    support(proposal, "one@example.org")
    support(proposal, "two@example.org")
    Proposal.objects.filter(pk=proposal.pk).update(answer_due=timezone.now() - timedelta(days=1))
    proposal.refresh_from_db()
    assert proposal.is_overdue
    assert selectors.agenda_summary().overdue == 1
    assert list(selectors.proposals_public(status="overdue")) == [proposal]


# --- answers ------------------------------------------------------------------------------------


def _awaiting(area: IssueArea, coalition: Coalition) -> Proposal:
    proposal = open_proposal(area, coalition, wants_answer=True)
    support(proposal, "one@example.org", wants_answer=True)
    support(proposal, "two@example.org", wants_answer=False)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING
    return proposal


def test_a_member_adopts_it_with_a_campaign_and_the_supporters_who_asked_are_told_once(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = _awaiting(area, coalition)
    campaign = services.proposal_adopt(
        proposal=proposal,
        organization=coalition.b,
        user=coalition.admin_b,
        title="Accounts for residents",
        summary="We take it up with the banking supervisors.",
    )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ADOPTED
    assert (proposal.answered_by, proposal.campaign) == (coalition.b, campaign)
    assert CoSponsorship.objects.filter(
        campaign=campaign, organization=coalition.b, status=CoSponsorship.Status.ACCEPTED
    ).exists()
    assert services.answer_notices_send() == 2  # the proposer and "one"; "two" did not ask
    assert services.answer_notices_send() == 0  # a second run sends nothing again
    mails = Email.objects.filter(kind="agenda.answered")
    assert sorted(mails.values_list("to", flat=True)) == sorted([PROPOSER, "one@example.org"])
    for mail in mails:
        assert mail.list_scope == f"agenda:{proposal.pk}"
        assert "/u/" in mail.body_text  # one-click unsubscribe link
        assert "erase" in mail.body_text
    summary = selectors.agenda_summary(organization=coalition.b)
    assert summary.adopted == [proposal] and summary.median_days is not None
    assert summary.median_days >= 0


def test_an_unsubscribed_supporter_is_not_told(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = _awaiting(area, coalition)
    one = Support.objects.get(email_digest=services.email_digest("one@example.org"))
    suppression_add(digest=one.email_digest, scope=ALL, reason="unsubscribed")
    services.proposal_adopt(
        proposal=proposal,
        organization=coalition.b,
        user=coalition.admin_b,
        title="Accounts",
        summary="Taken up.",
    )
    services.answer_notices_send()
    assert list(
        Email.objects.filter(kind="agenda.answered", status=Email.Status.QUEUED).values_list(
            "to", flat=True
        )
    ) == [PROPOSER]


def test_the_unsubscribe_link_of_an_answer_stops_it(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    from outbox.suppression import list_token_for

    proposal = _awaiting(area, coalition)
    one = Support.objects.get(email_digest=services.email_digest("one@example.org"))
    unsubscribe(token=list_token_for(digest=one.email_digest, scope=f"agenda:{proposal.pk}"))
    one.refresh_from_db()
    assert not one.wants_answer


def test_an_editor_cannot_adopt_and_nothing_changes(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = _awaiting(area, coalition)
    with pytest.raises(services.AgendaError):
        services.proposal_adopt(
            proposal=proposal,
            organization=coalition.a,
            user=coalition.editor_a,
            title="T",
            summary="S",
        )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING
    assert not Campaign.objects.exists()


def test_a_decline_takes_effect_only_after_the_objection_period(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = _awaiting(area, coalition)
    motion = services.motion_propose(
        proposal=proposal,
        organization=coalition.a,
        user=coalition.admin_a,
        kind=AnswerMotion.Kind.DECLINE,
        reason="Outside what the coalition can change.",
    )
    assert Email.objects.filter(kind="agenda.motion").count() == 3
    assert services.motions_settle() == 0
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING
    assert services.motions_settle(now=motion.effective_at + timedelta(seconds=1)) == 1
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.DECLINED
    assert proposal.answer_reason == "Outside what the coalition can change."


def test_an_objection_puts_the_decline_to_a_coalition_vote(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = _awaiting(area, coalition)
    motion = services.motion_propose(
        proposal=proposal,
        organization=coalition.a,
        user=coalition.admin_a,
        kind=AnswerMotion.Kind.DECLINE,
        reason="Not ours.",
    )
    with pytest.raises(services.AgendaError):  # the mover cannot object to itself
        services.motion_object(
            motion=motion, organization=coalition.a, user=coalition.admin_a, reason="x"
        )
    services.motion_object(
        motion=motion, organization=coalition.b, user=coalition.admin_b, reason="It is ours."
    )
    motion.refresh_from_db()
    assert motion.status == AnswerMotion.Status.VOTING
    decision = motion.decision
    assert decision is not None and decision.kind == Decision.Kind.AGENDA_ANSWER
    # The objection period no longer applies: only the vote decides.
    assert services.motions_settle(now=timezone.now() + timedelta(days=365)) == 0
    for org, admin in ((coalition.b, coalition.admin_b), (coalition.c, coalition.admin_c)):
        member_services.vote_cast(
            decision=decision, organization=org, user=admin, choice=Vote.Choice.DISAGREE
        )
    member_services.vote_cast(
        decision=decision, organization=coalition.a, user=coalition.admin_a, choice="agree"
    )
    member_services.decision_close(decision=decision, now=decision.deadline)
    motion.refresh_from_db()
    proposal.refresh_from_db()
    assert motion.status == AnswerMotion.Status.REJECTED
    assert proposal.status == Proposal.Status.AWAITING


def test_an_adoption_put_to_a_vote_starts_the_campaign_when_adopted(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = _awaiting(area, coalition)
    motion = services.motion_propose(
        proposal=proposal,
        organization=coalition.c,
        user=coalition.admin_c,
        kind=AnswerMotion.Kind.ADOPT,
        reason="A coalition-wide campaign.",
        campaign_title="Bank accounts for all residents",
        campaign_summary="Together.",
    )
    decision = motion.decision
    assert decision is not None
    for org, admin in (
        (coalition.a, coalition.admin_a),
        (coalition.b, coalition.admin_b),
        (coalition.c, coalition.admin_c),
    ):
        member_services.vote_cast(decision=decision, organization=org, user=admin, choice="agree")
    member_services.decision_close(decision=decision, now=decision.deadline)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ADOPTED
    assert proposal.answered_by == coalition.c
    assert proposal.campaign is not None
    assert proposal.answer_decision == decision


def test_a_merge_needs_a_public_campaign(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    from campaigns import services as campaign_services

    proposal = _awaiting(area, coalition)
    draft = campaign_services.campaign_create(
        organization=coalition.a,
        user=coalition.admin_a,
        issue_area=area,
        title_en="Draft",
        summary_en="Not public.",
    )
    with pytest.raises(services.AgendaError):
        services.motion_propose(
            proposal=proposal,
            organization=coalition.a,
            user=coalition.admin_a,
            kind=AnswerMotion.Kind.MERGE,
            reason="Same problem.",
            campaign=draft,
        )
    assert not AnswerMotion.objects.exists()


def test_only_one_motion_at_a_time_and_only_the_mover_withdraws(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = _awaiting(area, coalition)
    motion = services.motion_propose(
        proposal=proposal,
        organization=coalition.a,
        user=coalition.admin_a,
        kind=AnswerMotion.Kind.DECLINE,
        reason="No.",
    )
    with pytest.raises(services.AgendaError):
        services.motion_propose(
            proposal=proposal,
            organization=coalition.b,
            user=coalition.admin_b,
            kind=AnswerMotion.Kind.DECLINE,
            reason="No either.",
        )
    with pytest.raises(services.AgendaError):
        services.motion_withdraw(motion=motion, organization=coalition.b, user=coalition.admin_b)
    services.motion_withdraw(motion=motion, organization=coalition.a, user=coalition.admin_a)
    motion.refresh_from_db()
    assert motion.status == AnswerMotion.Status.WITHDRAWN


# --- moderation ---------------------------------------------------------------------------------


def test_hiding_needs_a_reason_is_logged_and_only_staff_restore(
    area: IssueArea, coalition: Coalition
) -> None:
    from tests.factories import make_staff

    proposal = open_proposal(area, coalition)
    with pytest.raises(services.AgendaError):
        services.proposal_hide(
            proposal=proposal, organization=coalition.b, user=coalition.admin_b, reason=" "
        )
    services.proposal_hide(
        proposal=proposal, organization=coalition.b, user=coalition.admin_b, reason="Names a person"
    )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.HIDDEN
    assert selectors.proposal_public(pk=proposal.pk) is None
    staff, _secret = make_staff()
    services.proposal_restore(proposal=proposal, user=staff, reason="Nobody is named.")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN
    assert list(proposal.moderation.values_list("action", flat=True)) == [
        "restore",
        "hide",
        "publish",
    ]


def test_a_non_member_organization_cannot_moderate(area: IssueArea, coalition: Coalition) -> None:
    from members.models import Organization

    proposal = propose(area)
    services.link_confirm(token=services.token_make("p", proposal.pk))
    Organization.objects.filter(pk=coalition.a.pk).update(status=Organization.Status.SUSPENDED)
    coalition.a.refresh_from_db()
    with pytest.raises(services.AgendaError):
        services.proposal_publish(
            proposal=proposal, organization=coalition.a, user=coalition.editor_a
        )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.IN_REVIEW


# --- erasure and retention ----------------------------------------------------------------------


def test_erasure_by_mailbox_reaches_supports_and_proposals(
    area: IssueArea, coalition: Coalition
) -> None:
    public = open_proposal(area, coalition)
    private = propose(area)  # unconfirmed
    support(public, "anna.k@gmail.com")
    public.refresh_from_db()
    assert public.support_count == 2
    privacy_services.signer_erase(email="Anna.K@googlemail.com")
    public.refresh_from_db()
    assert public.support_count == 1
    privacy_services.signer_erase(email=PROPOSER)
    assert not Proposal.objects.filter(pk=private.pk).exists()
    public.refresh_from_db()
    assert (public.email, public.email_digest, public.support_count) == ("", "", 0)
    assert not Support.objects.exists()
    assert not Email.objects.filter(kind__startswith="agenda.").exists()


def test_retention_deletes_unconfirmed_proposals_and_supports(
    area: IssueArea, coalition: Coalition
) -> None:
    public = open_proposal(area, coalition)
    services.support_create(proposal=public, email="late@example.org")
    stale = propose(area)
    later = timezone.now() + timedelta(days=8)
    assert services.agenda_purge(now=later) == 2
    assert not Proposal.objects.filter(pk=stale.pk).exists()
    assert list(Support.objects.values_list("is_proposer", flat=True)) == [True]
    assert Proposal.objects.filter(pk=public.pk).exists()


def test_a_proposal_still_gathering_support_cannot_be_declined(
    area: IssueArea, coalition: Coalition
) -> None:
    proposal = open_proposal(area, coalition)
    with pytest.raises(services.AgendaError):
        services.motion_propose(
            proposal=proposal,
            organization=coalition.a,
            user=coalition.admin_a,
            kind=AnswerMotion.Kind.DECLINE,
            reason="Not now.",
        )
    assert not AnswerMotion.objects.exists()


def test_an_adoption_whose_campaign_never_goes_live_lapses_publicly(
    area: IssueArea, coalition: Coalition, threshold: int, settings: LazySettings
) -> None:
    settings.AGENDA_ANSWER_WITHIN = timedelta(days=30)
    proposal = _awaiting(area, coalition)
    campaign = services.proposal_adopt(
        proposal=proposal, organization=coalition.c, user=coalition.admin_c, title="T", summary="S"
    )
    assert services.adoptions_lapse(now=timezone.now() + timedelta(days=29)) == 0
    later = timezone.now() + timedelta(days=31)
    assert services.adoptions_lapse(now=later) == 1
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING
    assert proposal.answered_by is None and proposal.campaign is None
    assert proposal.answer_due == later + timedelta(days=30)
    act = proposal.moderation.first()
    assert act is not None
    assert (act.action, act.organization) == (ModerationAct.Action.LAPSE, coalition.c)
    assert Campaign.objects.filter(pk=campaign.pk).exists()  # the draft stays its own


def test_an_adoption_s_lapse_clock_stands_still_while_it_is_hidden_as_the_answer_clock_does(
    area: IssueArea, coalition: Coalition, threshold: int, settings: LazySettings
) -> None:
    settings.AGENDA_ANSWER_WITHIN = timedelta(days=30)
    from tests.factories import make_staff

    staff = make_staff()[0]
    proposal = _awaiting(area, coalition)
    services.proposal_adopt(
        proposal=proposal, organization=coalition.c, user=coalition.admin_c, title="T", summary="S"
    )
    services.proposal_hide(proposal=proposal, user=staff, reason="A name in the text")
    # Adopted 25 days ago, hidden for the last 20 of them: 5 days of its 30 are gone.
    now = timezone.now()
    Proposal.objects.filter(pk=proposal.pk).update(
        answered_at=now - timedelta(days=25), hidden_at=now - timedelta(days=20)
    )
    assert services.adoptions_lapse(now=now + timedelta(days=30)) == 0  # hidden: no lapse
    services.proposal_restore(proposal=proposal, reason="The name is gone", user=staff)

    assert services.adoptions_lapse(now=now + timedelta(days=24)) == 0  # 29 days counted
    assert services.adoptions_lapse(now=now + timedelta(days=26)) == 1  # 31 days counted
    proposal.refresh_from_db()
    assert (proposal.status, proposal.adoption_paused) == (Proposal.Status.AWAITING, timedelta(0))


def test_an_adoption_with_a_live_campaign_stands(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = _awaiting(area, coalition)
    campaign = services.proposal_adopt(
        proposal=proposal, organization=coalition.c, user=coalition.admin_c, title="T", summary="S"
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.LIVE)
    assert services.adoptions_lapse(now=timezone.now() + timedelta(days=365)) == 0
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ADOPTED

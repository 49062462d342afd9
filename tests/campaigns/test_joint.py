"""Joint acts of co-sponsors, and closing a campaign as one (issue 10, "partly through")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from campaigns import joint, services, tasks
from campaigns.models import Campaign, JointAct, JointActAnswer, OutcomeEvent
from members.models import Membership
from outbox.models import Email
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def _manage(live, index: int, name: str = "manage", **extra) -> str:
    kwargs = {"org": live.orgs[index].slug, "slug": live.campaign.slug, **extra}
    return reverse(f"campaigns:{name}", kwargs=kwargs)


def _propose_close(live, user=None, index: int = 0) -> JointAct:
    return services.campaign_close_propose(
        campaign=live.campaign,
        organization=live.orgs[index],
        user=user or live.admins[index],
        result=Campaign.Result.WON,
        result_summary="The Commission issued guidance.",
    )


def _status(live) -> str:
    live.campaign.refresh_from_db()
    return live.campaign.status


def test_an_editor_closing_only_proposes_and_the_campaign_stays_open(client, live):
    """The attack: one co-sponsor's editor closed the campaign for good, alone."""
    editor = make_member(live.orgs[0], Membership.Role.EDITOR)
    client.force_login(editor)
    response = client.post(
        _manage(live, 0, "close"),
        {"result": "lost", "result_summary": "We give up, says one co-sponsor alone."},
    )
    assert response.status_code == 302
    assert _status(live) == Campaign.Status.LIVE
    act = JointAct.objects.get(campaign=live.campaign, kind=services.CLOSE_ACT)
    assert act.status == JointAct.Status.PENDING
    assert act.rule == JointAct.Rule.NO_OBJECTION
    # An editor does not answer for the organization: its admin still may object.
    assert not act.answers.exists()
    assert not OutcomeEvent.objects.filter(kind=OutcomeEvent.Kind.RESULT).exists()
    # Every co-sponsor's admin is told, in the outbox.
    told = set(Email.objects.filter(kind="campaigns.joint_act").values_list("to", flat=True))
    assert told == {admin.email for admin in live.admins}


def test_close_is_effective_once_every_other_cosponsor_agrees(client, live):
    act = _propose_close(live)
    assert act.answers.get().organization == live.orgs[0]  # the proposing admin's organization
    assert _status(live) == Campaign.Status.LIVE
    client.force_login(live.admins[1])
    response = client.post(_manage(live, 1, "act_answer", pk=act.pk), {"answer": "approve"})
    assert response.status_code == 302
    live.campaign.refresh_from_db()
    assert live.campaign.status == Campaign.Status.CLOSED
    assert live.campaign.result == Campaign.Result.WON
    assert live.campaign.result_summary == "The Commission issued guidance."
    act.refresh_from_db()
    assert act.status == JointAct.Status.ADOPTED
    history = client.get(reverse("campaigns:history", args=[live.campaign.slug])).content.decode()
    assert "Close the campaign for good" in history and "Agreed" in history
    assert "Beta Bridge: Agrees" in history


def test_an_objection_keeps_the_campaign_open_even_after_the_time_passes(client, live):
    act = _propose_close(live)
    client.force_login(live.admins[1])
    client.post(
        _manage(live, 1, "act_answer", pk=act.pk),
        {"answer": "object", "reason": "The guidance is not enforced yet."},
    )
    assert _status(live) == Campaign.Status.LIVE
    later = timezone.now() + timedelta(days=30)
    assert joint.joint_acts_settle_due(now=later) == 1
    assert _status(live) == Campaign.Status.LIVE
    act.refresh_from_db()
    assert act.status == JointAct.Status.STOPPED
    history = client.get(reverse("campaigns:history", args=[live.campaign.slug])).content.decode()
    assert "The guidance is not enforced yet." in history and "Stopped" in history


def test_silence_until_the_objection_period_ends_closes_the_campaign(live, settings):
    settings.JOINT_ACT_OBJECTION_PERIOD = timedelta(hours=72)
    act = _propose_close(live)
    assert joint.joint_acts_settle_due(now=timezone.now() + timedelta(hours=71)) == 0
    assert _status(live) == Campaign.Status.LIVE
    moved = timezone.now() + timedelta(hours=73)
    assert joint.joint_acts_settle_due(now=moved) == 1
    assert joint.joint_acts_settle_due(now=moved) == 0  # the periodic job is idempotent
    assert _status(live) == Campaign.Status.CLOSED
    act.refresh_from_db()
    assert act.status == JointAct.Status.ADOPTED
    assert OutcomeEvent.objects.filter(
        campaign=live.campaign, kind=OutcomeEvent.Kind.RESULT
    ).exists()
    # The organizations work in Russian: the settled mail says so in Russian.
    subjects = [e.subject for e in Email.objects.filter(kind="campaigns.joint_act")]
    assert sum(subject.startswith("Принято:") for subject in subjects) == len(live.admins)


def test_the_beat_task_settles_due_acts(live):
    act = _propose_close(live)
    JointAct.objects.filter(pk=act.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert tasks.joint_acts_settle.delay().get() == 1
    assert _status(live) == Campaign.Status.CLOSED


def test_an_objector_may_change_its_answer_and_the_history_keeps_both(client, live):
    act = _propose_close(live)
    joint.joint_act_answer(
        act=act, organization=live.orgs[1], user=live.admins[1], approve=False, reason="Too early."
    )
    joint.joint_act_answer(act=act, organization=live.orgs[1], user=live.admins[1], approve=True)
    assert _status(live) == Campaign.Status.CLOSED
    answer = JointActAnswer.objects.get(act=act, organization=live.orgs[1])
    assert answer.earlier[0]["reason"] == "Too early."
    history = client.get(reverse("campaigns:history", args=[live.campaign.slug])).content.decode()
    assert "Too early." in history


def test_only_an_admin_answers_for_a_cosponsor(client, live):
    act = _propose_close(live)
    editor = make_member(live.orgs[1], Membership.Role.EDITOR)
    with pytest.raises(joint.JointActError, match="admin"):
        joint.joint_act_answer(act=act, organization=live.orgs[1], user=editor, approve=True)
    client.force_login(editor)
    response = client.post(_manage(live, 1, "act_answer", pk=act.pk), {"answer": "approve"})
    assert response.status_code == 403
    # An outsider's admin cannot answer either, by service or by putting its org in the URL.
    with pytest.raises(joint.JointActError, match="co-sponsors"):
        joint.joint_act_answer(
            act=act, organization=live.outsider, user=live.outsider_admin, approve=True
        )
    assert act.answers.count() == 1
    assert _status(live) == Campaign.Status.LIVE


def test_an_objection_needs_a_reason(client, live):
    act = _propose_close(live)
    with pytest.raises(joint.JointActError, match="reason"):
        joint.joint_act_answer(
            act=act, organization=live.orgs[1], user=live.admins[1], approve=False
        )
    assert act.answers.count() == 1


def test_one_answer_per_organization_is_a_database_rule(live):
    act = _propose_close(live)
    with pytest.raises(IntegrityError):
        JointActAnswer.objects.create(act=act, organization=live.orgs[0], answer="approve")


def test_one_pending_close_at_a_time_and_the_proposer_may_withdraw(live):
    act = _propose_close(live)
    with pytest.raises(services.CampaignError, match="already waiting"):
        _propose_close(live, index=1)
    with pytest.raises(joint.JointActError, match="proposed it"):
        joint.joint_act_withdraw(act=act, organization=live.orgs[1], user=live.admins[1])
    joint.joint_act_withdraw(act=act, organization=live.orgs[0], user=live.admins[0])
    act.refresh_from_db()
    assert act.status == JointAct.Status.WITHDRAWN
    assert _propose_close(live, index=1).is_pending


def test_cosponsors_are_counted_when_the_act_is_settled(live):
    """A co-sponsor that joins after the proposal must answer too."""
    act = _propose_close(live)
    live.outsider_joins()
    joint.joint_act_answer(act=act, organization=live.orgs[1], user=live.admins[1], approve=True)
    assert _status(live) == Campaign.Status.LIVE
    joint.joint_act_answer(
        act=act, organization=live.outsider, user=live.outsider_admin, approve=True
    )
    assert _status(live) == Campaign.Status.CLOSED


def test_proposals_appear_in_the_workspace_with_the_answer_form(client, live):
    act = _propose_close(live)
    client.force_login(live.admins[1])
    page = client.get(_manage(live, 1)).content.decode()
    assert act.description_en in page
    assert _manage(live, 1, "act_answer", pk=act.pk) in page


def test_proposal_mail_is_in_the_organizations_language(live):
    live.orgs[1].languages = ["ru"]
    live.orgs[1].save()
    _propose_close(live)
    (mail,) = [
        e for e in Email.objects.filter(kind="campaigns.joint_act") if e.to == live.admins[1].email
    ]
    assert "Окончательно закрыть кампанию" in mail.body_text


def test_an_objection_from_an_organization_that_left_no_longer_counts(live):
    act = _propose_close(live)
    joint.joint_act_answer(
        act=act, organization=live.orgs[1], user=live.admins[1], approve=False, reason="No."
    )
    live.outsider_joins()  # so the campaign keeps two co-sponsors when B leaves
    services.cosponsor_withdraw(
        campaign=live.campaign, organization=live.orgs[1], user=live.admins[1]
    )
    joint.joint_act_answer(
        act=act, organization=live.outsider, user=live.outsider_admin, approve=True
    )
    assert _status(live) == Campaign.Status.CLOSED


def test_the_public_campaign_page_links_to_the_proposals(client, live):
    _propose_close(live)
    page = client.get(live.campaign.get_absolute_url()).content.decode()
    assert reverse("campaigns:history", args=[live.campaign.slug]) in page
    history = client.get(reverse("campaigns:history", args=[live.campaign.slug])).content.decode()
    assert "Waiting for the co-sponsors" in history and "unless a co-sponsor objects" in history


def test_proposing_and_withdrawing_in_a_loop_is_capped(live):
    """Each proposal and withdrawal mails every co-sponsor's admins: a loop must not flood them."""
    for _ in range(joint.PROPOSALS_PER_DAY):
        act = _propose_close(live)
        joint.joint_act_withdraw(act=act, organization=live.orgs[0], user=live.admins[0])
    mails = Email.objects.filter(kind="campaigns.joint_act").count()
    with pytest.raises(services.CampaignError, match="last 24 hours"):
        _propose_close(live)
    assert Email.objects.filter(kind="campaigns.joint_act").count() == mails
    assert not JointAct.objects.filter(status=JointAct.Status.PENDING).exists()
    # The other co-sponsor is not held back by the first one's loop.
    assert _propose_close(live, index=1).is_pending

"""Abuse found in review of the agenda: each test failed on the code before its fix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import LazySettings
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from agenda import services
from agenda.models import AnswerMotion, ModerationAct, Proposal
from campaigns.limits import sign_limits
from campaigns.models import IssueArea
from foundation.ratelimit import RateLimited
from members import services as member_services
from outbox.models import Email
from tests.agenda.conftest import PROPOSER, Coalition, open_proposal
from tests.agenda.test_services import _awaiting
from tests.factories import make_staff
from tests.test_tor_limits import ONION, aged_nojs_token


@pytest.mark.django_db
@pytest.mark.nojs_cost
def test_agenda_posts_without_javascript_never_spend_the_petition_signers_budget(
    area: IssueArea, coalition: Coalition, settings: LazySettings
) -> None:
    settings.ONION_HOST = ONION
    settings.ONION_PORT = 8001
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ONION]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_nojs": "5/h", "agenda_nojs": "5/h"}
    proposal = open_proposal(area, coalition)
    url = reverse("agenda:proposal", args=[proposal.pk])
    bot = Client()
    # a bot through the onion: no per-address limit, aged tokens, a mailbox per domain
    for n in range(5):
        token = aged_nojs_token("agenda_support")
        r = bot.post(
            url,
            {"email": f"x{n}@bot{n}.example", "nojs": token},
            HTTP_HOST=ONION,
            SERVER_PORT="8001",
        )
        assert r.status_code == 302
    # the agenda's own budget is spent: the sixth is refused...
    token = aged_nojs_token("agenda_support")
    r = bot.post(
        url, {"email": "x9@bot9.example", "nojs": token}, HTTP_HOST=ONION, SERVER_PORT="8001"
    )
    assert r.status_code == 429
    # ...but an honest Tor signer of a petition still gets through (the sign view's call)
    sign_limits(
        RequestFactory().post("/p/x/", HTTP_HOST=ONION, SERVER_PORT="8001"),
        email="maria@mail.example",
        pow_verified=False,
    )
    with pytest.raises(RateLimited):  # and the petition budget is still a budget
        for _n in range(5):
            sign_limits(
                RequestFactory().post("/p/x/", HTTP_HOST=ONION, SERVER_PORT="8001"),
                email="maria@mail.example",
                pow_verified=False,
            )


@pytest.mark.django_db
def test_the_organization_whose_adoption_lapsed_cannot_adopt_it_again(
    area: IssueArea, coalition: Coalition, threshold: int, settings: LazySettings
) -> None:
    settings.AGENDA_ANSWER_WITHIN = timedelta(days=30)
    proposal = _awaiting(area, coalition)
    services.proposal_adopt(
        proposal=proposal, organization=coalition.c, user=coalition.admin_c, title="T", summary="S"
    )
    assert services.adoptions_lapse(now=timezone.now() + timedelta(days=31)) == 1
    with pytest.raises(services.AgendaError, match="lapsed"):
        services.proposal_adopt(
            proposal=proposal,
            organization=coalition.c,
            user=coalition.admin_c,
            title="T2",
            summary="S2",
        )
    with pytest.raises(services.AgendaError, match="lapsed"):  # nor through a vote
        services.motion_propose(
            proposal=proposal,
            organization=coalition.c,
            user=coalition.admin_c,
            kind=AnswerMotion.Kind.ADOPT,
            reason="Again",
            campaign_title="T2",
            campaign_summary="S2",
        )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING
    # another member organization still can
    services.proposal_adopt(
        proposal=proposal, organization=coalition.b, user=coalition.admin_b, title="T", summary="S"
    )


@pytest.mark.django_db
def test_supporters_hear_of_the_lapse_and_of_the_next_answer_once_each(
    area: IssueArea, coalition: Coalition, threshold: int, settings: LazySettings
) -> None:
    settings.AGENDA_ANSWER_WITHIN = timedelta(days=30)
    proposal = _awaiting(area, coalition)
    services.proposal_adopt(
        proposal=proposal, organization=coalition.c, user=coalition.admin_c, title="T", summary="S"
    )
    assert services.answer_notices_send() == 2  # the proposer and "one" asked
    assert services.adoptions_lapse(now=timezone.now() + timedelta(days=31)) == 1
    assert services.answer_notices_send() == 2
    assert services.answer_notices_send() == 0
    lapsed = Email.objects.filter(kind="agenda.lapsed")
    assert sorted(lapsed.values_list("to", flat=True)) == sorted([PROPOSER, "one@example.org"])
    for mail in lapsed:
        assert "Gamma" in mail.body_text and "lapsed" in mail.body_text
        assert mail.list_scope == f"agenda:{proposal.pk}" and "/u/" in mail.body_text
    with translation.override("ru"):
        russian = render_to_string(
            "agenda/email/lapsed_body.txt",
            {"proposal": proposal, "lapsed_by": coalition.c, "erase_url": "", "site_url": ""},
        )
    assert "Организация Gamma взяла в работу" in russian and "Отписаться" in russian
    services.proposal_adopt(
        proposal=proposal, organization=coalition.b, user=coalition.admin_b, title="T", summary="S"
    )
    assert services.answer_notices_send() == 2
    assert services.answer_notices_send() == 0
    assert Email.objects.filter(kind="agenda.answered").count() == 4


# --- one organization hiding a proposal -------------------------------------------------------


@pytest.mark.django_db
def test_a_hiding_is_mailed_to_staff_the_members_and_the_proposer_who_asked(
    area: IssueArea, coalition: Coalition
) -> None:
    staff, _secret = make_staff()
    proposal = open_proposal(area, coalition, wants_answer=True)
    services.proposal_hide(
        proposal=proposal, organization=coalition.c, user=coalition.admin_c, reason="Spam"
    )
    hidden = {mail.to: mail for mail in Email.objects.filter(kind="agenda.hidden")}
    to_staff = hidden[staff.email]
    assert "Gamma" in to_staff.body_text and "Spam" in to_staff.body_text
    assert f"/agenda/{proposal.pk}/staff/" in to_staff.body_text
    to_b = hidden[coalition.admin_b.email]
    assert f"/organizations/{coalition.b.slug}/agenda/" in to_b.body_text
    for mail in hidden.values():  # what was hidden may name someone: not copied into inboxes
        assert proposal.title not in mail.subject + mail.body_text
    to_proposer = Email.objects.get(kind="agenda.hidden_proposer")
    assert to_proposer.to == PROPOSER and "restored by itself" in to_proposer.body_text


@pytest.mark.django_db
def test_an_unconfirmed_hiding_is_undone_and_its_organization_cannot_hide_it_alone_again(
    area: IssueArea, coalition: Coalition, threshold: int, settings: LazySettings
) -> None:
    settings.AGENDA_HIDE_CONFIRM_WITHIN = timedelta(days=3)
    settings.AGENDA_ANSWER_WITHIN = timedelta(days=30)
    proposal = _awaiting(area, coalition)
    due = proposal.answer_due
    assert due is not None
    motion = services.motion_propose(
        proposal=proposal,
        organization=coalition.a,
        user=coalition.admin_a,
        kind=AnswerMotion.Kind.DECLINE,
        reason="Not ours.",
    )
    effective = motion.effective_at
    assert effective is not None
    services.proposal_hide(
        proposal=proposal, organization=coalition.c, user=coalition.admin_c, reason="Bury it"
    )
    # the motion waits while it is hidden: not withdrawn, not applied
    assert services.motions_settle(now=timezone.now() + timedelta(days=8)) == 0
    motion.refresh_from_db()
    assert motion.status == AnswerMotion.Status.PENDING
    assert services.hides_expire(now=timezone.now() + timedelta(days=2)) == 0
    later = timezone.now() + timedelta(days=4)
    assert services.hides_expire(now=later) == 1
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.AWAITING
    act = proposal.moderation.first()
    assert act is not None and (act.action, act.organization) == ("undo", coalition.c)
    # the due dates moved on by the time it was hidden (about four days)
    assert proposal.answer_due is not None
    assert timedelta(days=3, hours=23) < proposal.answer_due - due < timedelta(days=4, hours=1)
    motion.refresh_from_db()
    assert motion.effective_at is not None
    assert (
        timedelta(days=3, hours=23) < motion.effective_at - effective < timedelta(days=4, hours=1)
    )
    with pytest.raises(services.AgendaError, match="undone"):
        services.proposal_hide(
            proposal=proposal, organization=coalition.c, user=coalition.admin_c, reason="Again"
        )
    services.proposal_hide(  # another organization still can
        proposal=proposal, organization=coalition.b, user=coalition.admin_b, reason="Really spam"
    )


@pytest.mark.django_db
def test_a_second_organization_confirms_a_hiding_and_it_stands(
    area: IssueArea, coalition: Coalition, settings: LazySettings
) -> None:
    settings.AGENDA_HIDE_CONFIRM_WITHIN = timedelta(days=3)
    proposal = open_proposal(area, coalition)
    services.proposal_hide(
        proposal=proposal, organization=coalition.c, user=coalition.admin_c, reason="A name"
    )
    with pytest.raises(services.AgendaError):  # not by itself
        services.proposal_hide_confirm(
            proposal=proposal, organization=coalition.c, user=coalition.admin_c, reason="Agreed"
        )
    with pytest.raises(services.AgendaError, match="reason"):  # not without a public reason
        services.proposal_hide_confirm(
            proposal=proposal, organization=coalition.b, user=coalition.admin_b, reason=" "
        )
    services.proposal_hide_confirm(
        proposal=proposal, organization=coalition.b, user=coalition.admin_b, reason="It names her"
    )
    assert services.hides_expire(now=timezone.now() + timedelta(days=30)) == 0
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.HIDDEN and proposal.hide_confirmed


@pytest.mark.django_db
def test_a_moderator_of_another_organization_confirms_from_the_workspace(
    area: IssueArea, coalition: Coalition, client: Client
) -> None:
    proposal = open_proposal(area, coalition)
    services.proposal_hide(
        proposal=proposal, organization=coalition.c, user=coalition.admin_c, reason="A name"
    )
    client.force_login(coalition.admin_b)
    page = client.get(reverse("agenda:workspace", args=[coalition.b.slug]))
    assert f'id="hidden-{proposal.pk}"' in page.content.decode()
    url = reverse("agenda:moderate", args=[coalition.b.slug, proposal.pk])
    r = client.post(url, {"action": "confirm_hide", "reason": ""})
    assert r.status_code == 400 and "Give the reason" in r.content.decode()
    proposal.refresh_from_db()
    assert not proposal.hide_confirmed
    r = client.post(url, {"action": "confirm_hide", "reason": "It names a private person"})
    assert r.status_code == 302
    proposal.refresh_from_db()
    assert proposal.hide_confirmed
    act = proposal.moderation.get(action=ModerationAct.Action.CONFIRM)
    assert (act.organization, act.reason) == (coalition.b, "It names a private person")
    client.force_login(coalition.admin_c)  # the hiding organization cannot confirm its own
    r = client.post(
        reverse("agenda:moderate", args=[coalition.c.slug, proposal.pk]),
        {"action": "confirm_hide", "reason": "Ours"},
    )
    assert r.status_code == 400


@pytest.mark.django_db
def test_a_coalition_vote_that_ends_while_hidden_takes_effect_on_restoration(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = _awaiting(area, coalition)
    motion = services.motion_propose(
        proposal=proposal,
        organization=coalition.a,
        user=coalition.admin_a,
        kind=AnswerMotion.Kind.DECLINE,
        reason="Outside what we can change.",
        vote=True,
    )
    decision = motion.decision
    assert decision is not None
    services.proposal_hide(
        proposal=proposal, organization=coalition.c, user=coalition.admin_c, reason="Bury it"
    )
    for org, admin in (
        (coalition.a, coalition.admin_a),
        (coalition.b, coalition.admin_b),
        (coalition.c, coalition.admin_c),
    ):
        member_services.vote_cast(decision=decision, organization=org, user=admin, choice="agree")
    member_services.decision_close(decision=decision, now=decision.deadline)
    motion.refresh_from_db()
    assert motion.status == AnswerMotion.Status.VOTING  # waits, not withdrawn
    assert services.hides_expire(now=timezone.now() + timedelta(days=30)) == 1
    motion.refresh_from_db()
    proposal.refresh_from_db()
    assert motion.status == AnswerMotion.Status.APPLIED
    assert proposal.status == Proposal.Status.DECLINED

"""The agenda's pages through the client: every form refuses bad input clearly and changes
nothing; public pages show nothing about a person."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse

from agenda import services
from agenda.models import AnswerMotion, ModerationAct, Proposal, Support
from campaigns.models import Campaign, IssueArea
from outbox.models import Email
from tests.agenda.conftest import PROPOSER, Coalition, open_proposal, propose, support
from tests.factories import make_staff, sign_in

pytestmark = pytest.mark.django_db

GOOD = {
    "title": "Banks close accounts of residents",
    "description": "Accounts are closed without a reason.",
    "issue_area": "bank-accounts",
    "countries": ["DE", "FR"],
    "email": "new.proposer@example.org",
}


def _rows() -> tuple[int, int, int, int]:
    return (
        Proposal.objects.count(),
        Support.objects.count(),
        Email.objects.count(),
        AnswerMotion.objects.count(),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"title": "<script>x</script>"}, "Plain text only"),
        ({"title": "See https://doxx.example.com"}, "Plain text only"),
        ({"description": ""}, "This field is required."),
        ({"description": "x" * 3001}, "at most 3000 characters"),
        ({"issue_area": "nope"}, "Select a valid choice"),
        ({"countries": []}, "This field is required."),
        ({"countries": ["XX"]}, "Select a valid choice"),
        (
            {"countries": ["DE", "FR", "AT", "BE", "NL", "PL", "CZ", "LT", "LV", "EE", "FI"]},
            "at most 10 countries",
        ),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"email": '"victim"@example.org'}, "quotation marks"),
        ({"email": "x@mailinator.com"}, "disposable"),
        ({"altcha": "forged"}, "anti-bot check failed"),
    ],
)
def test_bad_proposal_is_refused_with_a_clear_error_and_changes_nothing(
    area: IssueArea, change: dict[str, Any], message: str
) -> None:
    before = _rows()
    response = Client().post(reverse("agenda:propose"), {**GOOD, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _rows() == before


def test_a_good_proposal_is_sent_for_confirmation_without_javascript(area: IssueArea) -> None:
    response = Client().post(reverse("agenda:propose"), GOOD)
    assert response.status_code == 302 and response["Location"] == reverse("agenda:sent")
    proposal = Proposal.objects.get()
    assert proposal.status == Proposal.Status.UNCONFIRMED
    assert Email.objects.filter(kind="agenda.proposal_confirm").count() == 1


def test_the_honeypot_looks_like_success_and_writes_nothing(area: IssueArea) -> None:
    response = Client().post(reverse("agenda:propose"), {**GOOD, "website": "spam"})
    assert response.status_code == 302
    assert _rows() == (0, 0, 0, 0)


def test_the_confirmation_link_shows_a_button_and_only_post_confirms(area: IssueArea) -> None:
    proposal = propose(area)
    url = reverse("agenda:confirm", args=[services.token_make("p", proposal.pk)])
    assert Client().get(url).status_code == 200
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.UNCONFIRMED  # a link scanner's GET confirms nothing
    assert Client().post(url).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.IN_REVIEW
    assert Client().post(reverse("agenda:confirm", args=["forged"])).status_code == 400


def test_proposals_in_review_or_hidden_are_not_public(
    area: IssueArea, coalition: Coalition
) -> None:
    proposal = propose(area)
    services.link_confirm(token=services.token_make("p", proposal.pk))
    assert Client().get(reverse("agenda:proposal", args=[proposal.pk])).status_code == 404
    assert proposal.title not in Client().get(reverse("agenda:list")).content.decode()
    services.proposal_publish(proposal=proposal, organization=coalition.a, user=coalition.editor_a)
    assert Client().get(reverse("agenda:proposal", args=[proposal.pk])).status_code == 200
    services.proposal_hide(
        proposal=proposal, organization=coalition.b, user=coalition.admin_b, reason="Doxxing"
    )
    assert Client().get(reverse("agenda:proposal", args=[proposal.pk])).status_code == 404
    assert proposal.title not in Client().get(reverse("agenda:list")).content.decode()


def test_support_form_refuses_bad_input_and_changes_nothing(
    area: IssueArea, coalition: Coalition
) -> None:
    proposal = open_proposal(area, coalition)
    url = reverse("agenda:proposal", args=[proposal.pk])
    before = _rows()
    for data in ({"email": ""}, {"email": "nope"}, {"email": "a@example.org", "altcha": "x"}):
        response = Client().post(url, data)
        assert response.status_code == 400
        assert 'class="errorbox"' in response.content.decode()
    assert _rows() == before


def test_a_repeat_support_gets_the_same_answer_and_the_count_does_not_move(
    area: IssueArea, coalition: Coalition, settings: LazySettings
) -> None:
    proposal = open_proposal(area, coalition)
    support(proposal, "olga@example.org")
    url = reverse("agenda:proposal", args=[proposal.pk])
    first = Client().post(url, {"email": "new.one@example.org"})
    repeat = Client().post(url, {"email": "Olga+x@example.org"})
    assert (first.status_code, first["Location"]) == (repeat.status_code, repeat["Location"])
    page = Client().get(url).content.decode()
    assert re.search(r'id="support-count">2<', page)


def test_public_pages_show_no_address(area: IssueArea, coalition: Coalition) -> None:
    proposal = open_proposal(area, coalition)
    support(proposal, "olga@example.org")
    for url in (
        reverse("agenda:list"),
        reverse("agenda:proposal", args=[proposal.pk]),
        reverse("home"),
        reverse("members:organization", args=[coalition.a.slug]),
    ):
        body = Client().get(url).content.decode()
        assert PROPOSER not in body and "olga@example.org" not in body


def _admin_client(coalition: Coalition) -> Client:
    """B's admin, who has two-factor sign-in set up (make_admin)."""
    client = Client()
    client.force_login(coalition.admin_b)
    return client


def test_answer_form_refuses_bad_input_and_changes_nothing(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = open_proposal(area, coalition)
    support(proposal, "one@example.org")
    support(proposal, "two@example.org")
    client = _admin_client(coalition)
    url = reverse("agenda:answer", args=[coalition.b.slug, proposal.pk])
    assert client.get(url).status_code == 200
    before = _rows()
    for data, message in (
        ({}, "This field is required."),
        ({"answer": "bogus"}, "Select a valid choice"),
        ({"answer": "adopt"}, "Needed to start the campaign."),
        ({"answer": "decline"}, "Give the reason; it is published."),
        ({"answer": "merge", "reason": "Same"}, "Choose a public campaign"),
        ({"answer": "merge", "reason": "Same", "campaign": "nope"}, "Select a valid choice"),
    ):
        response = client.post(url, data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    assert _rows() == before
    assert not Campaign.objects.exists()

    response = client.post(
        url,
        {"answer": "adopt", "campaign_title": "Accounts", "campaign_summary": "We take it up."},
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ADOPTED and proposal.answered_by == coalition.b


def test_moderation_form_refuses_a_hide_without_reason(
    area: IssueArea, coalition: Coalition
) -> None:
    proposal = propose(area)
    services.link_confirm(token=services.token_make("p", proposal.pk))
    client = _admin_client(coalition)
    url = reverse("agenda:moderate", args=[coalition.b.slug, proposal.pk])
    response = client.post(url, {"action": "hide", "reason": ""})
    assert response.status_code == 400
    assert "Give the reason; it is published." in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.IN_REVIEW
    assert not ModerationAct.objects.exists()
    assert client.post(url, {"action": "publish"}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN


def test_staff_with_two_factor_hide_and_restore(area: IssueArea, coalition: Coalition) -> None:
    proposal = open_proposal(area, coalition)
    staff, secret = make_staff()
    client = Client()
    sign_in(client, staff, secret)
    url = reverse("agenda:staff_moderate", args=[proposal.pk])
    assert client.post(url, {"action": "hide", "reason": ""}).status_code == 400
    assert client.post(url, {"action": "hide", "reason": "Slur"}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.HIDDEN
    assert client.post(url, {"action": "restore", "reason": "Fine"}).status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN


def test_staff_confirm_an_organization_s_hiding_with_a_reason_shown_in_the_record(
    area: IssueArea, coalition: Coalition
) -> None:
    proposal = open_proposal(area, coalition)
    services.proposal_hide(
        proposal=proposal, organization=coalition.c, user=coalition.admin_c, reason="A name"
    )
    staff, secret = make_staff()
    client = Client()
    sign_in(client, staff, secret)
    url = reverse("agenda:staff_moderate", args=[proposal.pk])
    assert client.post(url, {"action": "confirm", "reason": ""}).status_code == 400
    proposal.refresh_from_db()
    assert not proposal.hide_confirmed
    confirmed = client.post(url, {"action": "confirm", "reason": "Her address is in it"})

    assert confirmed.status_code == 302

    proposal.refresh_from_db()
    assert proposal.hide_confirmed
    act = proposal.moderation.get(action=ModerationAct.Action.CONFIRM)
    assert (act.by_staff, act.reason) == (True, "Her address is in it")
    # The public record of the proposal's moderation (shown once it is public again).
    services.proposal_restore(proposal=proposal, reason="Redacted by the proposer", user=staff)
    page = Client().get(proposal.get_absolute_url()).content.decode()
    assert "Her address is in it" in page


def test_the_home_page_and_the_profile_show_the_agenda(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = open_proposal(area, coalition)
    support(proposal, "one@example.org")
    support(proposal, "two@example.org")
    services.proposal_adopt(
        proposal=proposal,
        organization=coalition.b,
        user=coalition.admin_b,
        title="Accounts",
        summary="Taken up.",
    )
    home = Client().get(reverse("home")).content.decode()
    assert "The emigre agenda" in home and proposal.title in home
    assert "Median time to answer" in home
    profile = Client().get(reverse("members:organization", args=[coalition.b.slug])).content
    assert proposal.title in profile.decode()
    other = Client().get(reverse("members:organization", args=[coalition.c.slug])).content
    assert proposal.title not in other.decode()


def test_list_filters_by_status_and_area(area: IssueArea, coalition: Coalition) -> None:
    proposal = open_proposal(area, coalition)
    assert proposal.title in Client().get(reverse("agenda:list") + "?status=open").content.decode()
    assert (
        proposal.title
        not in Client().get(reverse("agenda:list") + "?status=adopted").content.decode()
    )
    assert (
        proposal.title not in Client().get(reverse("agenda:list") + "?area=visas").content.decode()
    )


def _aged_token(purpose: str, age: int = 120) -> str:
    """A form token as the page rendered it ``age`` seconds ago (foundation/nojs.py)."""
    import secrets
    import time

    from django.core import signing

    payload = {"p": purpose, "n": secrets.token_urlsafe(12), "t": int(time.time()) - age}
    return signing.dumps(payload, salt="foundation.nojs")


@pytest.mark.nojs_cost
def test_without_javascript_a_proposal_pays_the_aged_form_token(area: IssueArea) -> None:
    before = _rows()
    response = Client().post(reverse("agenda:propose"), {**GOOD, "nojs": "forged"})
    assert response.status_code == 400
    assert "open too long or was changed" in response.content.decode()
    fast = Client().post(
        reverse("agenda:propose"), {**GOOD, "nojs": _aged_token("agenda_propose", age=0)}
    )
    assert fast.status_code == 400
    assert _rows() == before
    # A token of the sign form is no token of this one.
    other = Client().post(reverse("agenda:propose"), {**GOOD, "nojs": _aged_token("sign")})
    assert other.status_code == 400 and _rows() == before
    ok = Client().post(reverse("agenda:propose"), {**GOOD, "nojs": _aged_token("agenda_propose")})
    assert ok.status_code == 302
    assert Proposal.objects.count() == 1


@pytest.mark.nojs_cost
def test_without_javascript_a_support_pays_the_aged_form_token(
    area: IssueArea, coalition: Coalition
) -> None:
    proposal = open_proposal(area, coalition)
    url = reverse("agenda:proposal", args=[proposal.pk])
    before = _rows()
    assert Client().post(url, {"email": "x@example.org", "nojs": "forged"}).status_code == 400
    assert _rows() == before
    token = _aged_token("agenda_support")
    assert Client().post(url, {"email": "x@example.org", "nojs": token}).status_code == 302
    assert Support.objects.filter(is_proposer=False).count() == 1
    # The same token again (a replay) is refused.
    assert Client().post(url, {"email": "y@example.org", "nojs": token}).status_code == 400


def test_objection_without_reason_is_refused_and_changes_nothing(
    area: IssueArea, coalition: Coalition, threshold: int
) -> None:
    proposal = open_proposal(area, coalition)
    support(proposal, "one@example.org")
    support(proposal, "two@example.org")
    motion = services.motion_propose(
        proposal=proposal,
        organization=coalition.a,
        user=coalition.admin_a,
        kind=AnswerMotion.Kind.DECLINE,
        reason="Not ours.",
    )
    client = _admin_client(coalition)
    url = reverse("agenda:motion_action", args=[coalition.b.slug, motion.pk, "object"])
    response = client.post(url, {"reason": " "})
    assert response.status_code == 400
    assert "Give the reason for the objection." in response.content.decode()
    motion.refresh_from_db()
    assert motion.status == AnswerMotion.Status.PENDING and motion.decision is None
    assert client.post(url, {"reason": "It is ours."}).status_code == 302
    motion.refresh_from_db()
    assert motion.status == AnswerMotion.Status.VOTING


def test_staff_find_proposals_in_the_admin_without_any_address(
    area: IssueArea, coalition: Coalition
) -> None:
    proposal = open_proposal(area, coalition)
    support(proposal, "olga@example.org")
    staff, secret = make_staff()
    client = Client()
    sign_in(client, staff, secret)
    for url in (
        reverse("admin:agenda_proposal_changelist"),
        reverse("admin:agenda_proposal_change", args=[proposal.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert proposal.title in body
        assert PROPOSER not in body and "olga@example.org" not in body
    assert reverse("agenda:staff_moderate", args=[proposal.pk]) in body

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import LazySettings

from agenda import services
from agenda.models import Proposal, Support
from campaigns.models import IssueArea
from members.models import Organization, User
from outbox.models import Email
from tests.campaigns.conftest import issue_area_make
from tests.factories import MemberOrganizationFactory, make_admin, make_member

PROPOSER = "vera.proposer@example.org"


@dataclass
class Coalition:
    a: Organization
    b: Organization
    c: Organization
    admin_a: User
    admin_b: User
    admin_c: User
    editor_a: User


@pytest.fixture
def coalition(db: None) -> Coalition:
    a, b, c = (MemberOrganizationFactory(name=n) for n in ("Alpha Aid", "Beta Bridge", "Gamma"))
    from members.models import Membership

    return Coalition(
        a=a,
        b=b,
        c=c,
        admin_a=make_admin(a),
        admin_b=make_admin(b),
        admin_c=make_admin(c),
        editor_a=make_member(a, Membership.Role.EDITOR),
    )


@pytest.fixture
def area(db: None) -> IssueArea:
    return issue_area_make()


@pytest.fixture
def threshold(settings: LazySettings) -> int:
    settings.AGENDA_SUPPORT_THRESHOLD = 3
    return 3


def confirm_link_token(email: Email) -> str:
    """The token in the confirmation link of an agenda mail."""
    for word in email.body_text.split():
        if "/agenda/confirm/" in word:
            return word.rstrip("/").rsplit("/", 1)[1]
    raise AssertionError("no confirmation link in the mail")


def propose(area: IssueArea, email: str = PROPOSER, **extra: object) -> Proposal:
    proposal = services.proposal_create(
        title="Banks close accounts of Russian citizens with EU residence permits",
        description="Several banks in Germany close accounts without a reason.",
        issue_area=area,
        countries=["DE", "AT"],
        email=email,
        **extra,  # type: ignore[arg-type]
    )
    assert proposal is not None
    return proposal


def open_proposal(area: IssueArea, coalition: Coalition, **extra: object) -> Proposal:
    """A confirmed proposal a moderator of A published."""
    proposal = propose(area, **extra)
    services.link_confirm(token=services.token_make("p", proposal.pk))
    return services.proposal_publish(
        proposal=proposal, organization=coalition.a, user=coalition.editor_a
    )


def support(proposal: Proposal, email: str, *, wants_answer: bool = False) -> Support:
    services.support_create(proposal=proposal, email=email, wants_answer=wants_answer)
    found = Support.objects.get(proposal=proposal, email_digest=services.email_digest(email))
    services.link_confirm(token=services.token_make("s", found.pk))
    found.refresh_from_db()
    return found

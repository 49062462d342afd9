from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import altcha
import pytest
from django.conf import LazySettings

from campaigns import pow, services
from campaigns.models import Campaign, CoSponsorship, IssueArea, Petition
from members.models import Membership, Organization, User
from tests.factories import MemberOrganizationFactory, make_admin, make_member


@dataclass
class LiveCampaign:
    campaign: Campaign
    petition: Petition
    orgs: list[Organization]  # accepted co-sponsors, alphabetical by creation order
    admins: list[User]
    outsider: Organization  # a member organization that does not co-sponsor
    outsider_admin: User

    def invite_outsider(self) -> CoSponsorship:
        return services.cosponsor_invite(
            campaign=self.campaign,
            organization=self.orgs[0],
            invitee=self.outsider,
            user=self.admins[0],
        )

    def outsider_joins(self) -> None:
        services.cosponsor_respond(
            cosponsorship=self.invite_outsider(), user=self.outsider_admin, accept=True
        )


def admin_of(organization: Organization) -> User:
    return organization.memberships.filter(role=Membership.Role.ADMIN).first().user


def issue_area_make() -> IssueArea:
    # Seeded by a data migration, but a transactional test before this one may have flushed it.
    area, _created = IssueArea.objects.get_or_create(
        slug="bank-accounts",
        defaults={"name_en": "Bank accounts and payments", "name_ru": "Банковские счета"},
    )
    return area


@pytest.fixture
def issue_area(db: None) -> IssueArea:
    return issue_area_make()


@pytest.fixture
def live(issue_area: IssueArea) -> LiveCampaign:
    """A live campaign co-sponsored by two member organizations, with one open petition."""
    return live_campaign_make(issue_area)


def live_campaign_make(issue_area: IssueArea) -> LiveCampaign:
    """What ``live`` returns, for scenarios built once per module (tests/test_permissions.py)."""
    orgs = [MemberOrganizationFactory(name=n) for n in ("Alpha Aid", "Beta Bridge")]
    admins = [make_admin(o) for o in orgs]
    outsider = MemberOrganizationFactory(name="Gamma Group")
    outsider_admin = make_admin(outsider)
    campaign = services.campaign_create(
        organization=orgs[0],
        user=admins[0],
        issue_area=issue_area,
        title_en="Bank accounts for all",
        summary_en="Everyone legally resident deserves an account.",
        body_en="**Banks** must follow the law.",
    )
    invitation = services.cosponsor_invite(
        campaign=campaign, organization=orgs[0], invitee=orgs[1], user=admins[0]
    )
    services.cosponsor_respond(cosponsorship=invitation, user=admins[1], accept=True)
    petition = services.petition_create(
        campaign=campaign,
        organization=orgs[0],
        user=admins[0],
        title_en="Keep our accounts open",
        text_en="We ask the Commission to act.",
        addressed_to="European Commission",
        goal=100,
    )
    services.campaign_go_live(campaign=campaign, organization=orgs[1], user=admins[1])
    campaign.refresh_from_db()
    petition.refresh_from_db()
    return LiveCampaign(campaign, petition, orgs, admins, outsider, outsider_admin)


@pytest.fixture
def editor_of():
    return lambda organization: make_member(organization, Membership.Role.EDITOR, mfa=False)


@pytest.fixture
def pow_solution(settings: LazySettings) -> Callable[[], str]:
    """A function returning what the ALTCHA widget posts: a fresh challenge of ours, solved.

    The solve is real (the library's solver, the widget's algorithm), only smaller: tests stay fast.
    """
    settings.ALTCHA_MAX_NUMBER = 1_000

    def solve() -> str:
        challenge = pow.challenge_create()
        solution = altcha.solve_challenge(challenge, timeout=10)
        assert solution is not None
        return altcha.Payload(challenge, solution).to_base64()

    return solve

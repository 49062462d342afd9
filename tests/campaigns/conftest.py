from __future__ import annotations

from dataclasses import dataclass

import pytest

from campaigns import services
from campaigns.models import Campaign, IssueArea, Petition
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


def admin_of(organization: Organization) -> User:
    return organization.memberships.filter(role=Membership.Role.ADMIN).first().user


@pytest.fixture
def live(db: None) -> LiveCampaign:
    """A live campaign co-sponsored by two member organizations, with one open petition."""
    orgs = [MemberOrganizationFactory(name=n) for n in ("Alpha Aid", "Beta Bridge")]
    admins = [make_admin(o) for o in orgs]
    outsider = MemberOrganizationFactory(name="Gamma Group")
    outsider_admin = make_admin(outsider)
    campaign = services.campaign_create(
        organization=orgs[0],
        user=admins[0],
        issue_area=IssueArea.objects.get(slug="bank-accounts"),
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

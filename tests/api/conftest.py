from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from campaigns import services
from campaigns.models import Campaign, IssueArea, Petition
from members.models import Organization, User
from tests.campaigns.conftest import pow_solution  # noqa: F401 - the same fixture here
from tests.factories import MemberOrganizationFactory, make_admin


@dataclass
class LivePetition:
    campaign: Campaign
    petition: Petition
    starter: Organization  # "Zeta Relief": started the campaign, yet listed last (alphabetical)
    partner: Organization  # "Alpha Aid": joined by invitation
    starter_admin: User


@pytest.fixture
def issue_area(db: None) -> IssueArea:
    return IssueArea.objects.create(slug="api-tests", name_en="Documents", name_ru="Документы")


@pytest.fixture
def make_live(issue_area: IssueArea) -> Callable[..., LivePetition]:
    """Builds a live campaign with one petition through the services, as co-sponsors would."""

    def make(title: str = "Bank accounts for all", **petition_fields: object) -> LivePetition:
        starter = MemberOrganizationFactory(name=f"Zeta Relief {title}")
        partner = MemberOrganizationFactory(name=f"Alpha Aid {title}")
        starter_admin, partner_admin = make_admin(starter), make_admin(partner)
        campaign = services.campaign_create(
            organization=starter,
            user=starter_admin,
            issue_area=issue_area,
            title_en=title,
            title_ru="Счета для всех",
            summary_en="Everyone legally resident deserves an account.",
        )
        invitation = services.cosponsor_invite(
            campaign=campaign, organization=starter, invitee=partner, user=starter_admin
        )
        services.cosponsor_respond(cosponsorship=invitation, user=partner_admin, accept=True)
        fields: dict[str, object] = {
            "title_en": f"{title}: keep our accounts open",
            "text_en": "We ask the **Commission** to act.",
            "addressed_to": "European Commission",
            "goal": 100,
            **petition_fields,
        }
        petition = services.petition_create(
            campaign=campaign, organization=starter, user=starter_admin, **fields
        )
        services.campaign_go_live(campaign=campaign, organization=partner, user=partner_admin)
        campaign.refresh_from_db()
        petition.refresh_from_db()
        return LivePetition(campaign, petition, starter, partner, starter_admin)

    return make


@pytest.fixture
def live(make_live: Callable[..., LivePetition]) -> LivePetition:
    return make_live()

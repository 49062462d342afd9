"""What every campaigns service shares: the domain error, who may act, slugs."""

from __future__ import annotations

from django.utils.text import slugify
from django.utils.translation import gettext as _

from campaigns.models import Campaign, CoSponsorship, Petition
from foundation.errors import Conflict, DomainError, Forbidden, NotFound
from members.models import Membership, Organization, User

EDITOR_ROLES: set[str] = {Membership.Role.ADMIN, Membership.Role.EDITOR}
ADMIN_ONLY: set[str] = {Membership.Role.ADMIN}


class CampaignError(DomainError):
    """A campaign rule was broken; the message is shown to the person who tried. As such, the
    input was not valid (400 in the APIs); the subclasses below say when it is something else."""


class CampaignForbidden(CampaignError, Forbidden):
    """The person or organization may not do this (403)."""


class CampaignConflict(CampaignError, Conflict):
    """The campaign, petition or invitation is in a state that does not allow this (409)."""


class CampaignNotFound(CampaignError, NotFound):
    """A link or record that no longer exists (404)."""


# --- who may act ------------------------------------------------------------------------------


def _require_role(user: User, organization: Organization, roles: set[str]) -> None:
    if not Membership.objects.filter(user=user, organization=organization, role__in=roles).exists():
        raise CampaignForbidden(_("You cannot act for %(name)s.") % {"name": organization.name})


def _require_cosponsor(campaign: Campaign, organization: Organization) -> None:
    if not CoSponsorship.objects.filter(
        campaign=campaign, organization=organization, status=CoSponsorship.Status.ACCEPTED
    ).exists():
        raise CampaignForbidden(_("Only the campaign's co-sponsors can do this."))


def _accepted_count(campaign: Campaign) -> int:
    return campaign.cosponsorships.filter(status=CoSponsorship.Status.ACCEPTED).count()


RESERVED_SLUGS = {"pow-challenge", "new"}  # taken by our own URLs


def _unique_slug(model: type[Campaign] | type[Petition], text: str) -> str:
    base = slugify(text)[:70].strip("-") or model.__name__.lower()
    slug, n = base, 1
    while slug in RESERVED_SLUGS or model.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug

"""The one way a workspace view reaches a campaign: through an organization that co-sponsors it.

Which co-sponsorships count is decided per view, explicitly: ``invited=True`` only where an
invited organization must read the campaign (or answer) before accepting; everywhere else only
an accepted co-sponsor gets in, and everyone else gets a 404 (not a 403: whether an organization
was invited to a campaign is not for others to learn).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest

from campaigns.models import Campaign, CoSponsorship
from members import access
from members.models import Organization


def campaign_for(
    request: HttpRequest,
    org_slug: str,
    campaign_slug: str,
    *,
    roles: set[str],
    signer_data: bool = False,
    invited: bool = False,
) -> tuple[Organization, Campaign]:
    """The acting organization (the person's role in it checked) and one of its campaigns.

    ``signer_data``: the route shows, exports or decides where signers' personal data goes:
    two-factor for every role (members/access.py). ``invited``: an organization that is only
    invited gets in too.
    """
    organization, _membership = access.organization_for(
        request, org_slug, roles=roles, signer_data=signer_data
    )
    statuses = [CoSponsorship.Status.ACCEPTED]
    if invited:
        statuses.append(CoSponsorship.Status.INVITED)
    campaign = Campaign.objects.filter(
        slug=campaign_slug,
        cosponsorships__organization=organization,
        cosponsorships__status__in=statuses,
    ).first()
    if campaign is None:
        raise Http404
    return organization, campaign

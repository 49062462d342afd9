"""Reads for the OSDI partner API: what one organization may see, and nothing else.

Supporters are confirmed signatures that carry this organization's consent, on petitions of
campaigns it co-sponsors (accepted). A withdrawn or erased signature is deleted, so it simply
is not here any more; a consent taken back on the confirmation page is a deleted consent row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, Max, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest

from api.models import ApiToken
from campaigns.models import CoSponsorship, Petition, Signature, SupporterConsent
from members.models import Organization

# Where the previous page ended: (modified_date, id) of its last row. Pages that start after a
# row rather than at an offset skip nobody when someone earlier in the list withdraws meanwhile.
Cursor = tuple[datetime, int]


def organization_tokens(*, organization: Organization) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(organization=organization).select_related(
        "created_by", "revoked_by"
    )


def petitions_of(
    *,
    organization: Organization,
    modified_after: datetime | None = None,
    after: Cursor | None = None,
) -> QuerySet[Petition]:
    """Petitions of the campaigns this organization co-sponsors, with a modified_date, oldest
    change first."""
    petitions = (
        Petition.objects.filter(
            campaign__cosponsorships__organization=organization,
            campaign__cosponsorships__status=CoSponsorship.Status.ACCEPTED,
        )
        .select_related("campaign")
        .annotate(
            # A campaign that never went live or closed has NULLs there, which SQLite's MAX()
            # (unlike PostgreSQL's GREATEST) would return.
            modified=Greatest(
                "created_at",
                Coalesce("campaign__went_live_at", "created_at"),
                Coalesce("campaign__closed_at", "created_at"),
            )
        )
    )
    if modified_after is not None:
        petitions = petitions.filter(modified__gt=modified_after)
    if after is not None:
        moment, pk = after
        petitions = petitions.filter(Q(modified__gt=moment) | Q(modified=moment, pk__gt=pk))
    return petitions.order_by("modified", "pk")


def petition_of(*, organization: Organization, slug: str) -> Petition | None:
    return petitions_of(organization=organization).filter(slug=slug).first()


def supporter_signatures(*, organization: Organization) -> QuerySet[Signature]:
    consented = SupporterConsent.objects.filter(signature=OuterRef("pk"), organization=organization)
    return Signature.objects.filter(
        status=Signature.Status.CONFIRMED,
        petition__campaign__cosponsorships__organization=organization,
        petition__campaign__cosponsorships__status=CoSponsorship.Status.ACCEPTED,
    ).filter(Exists(consented))


def petition_supporters(
    *,
    organization: Organization,
    petition: Petition,
    modified_after: datetime | None,
    after: Cursor | None = None,
) -> QuerySet[Signature]:
    """This petition's signatures that this organization may see, oldest confirmation first."""
    signatures = (
        supporter_signatures(organization=organization)
        .filter(petition=petition)
        .select_related("petition", "source")
    )
    if modified_after is not None:
        signatures = signatures.filter(confirmed_at__gt=modified_after)
    if after is not None:
        moment, pk = after
        signatures = signatures.filter(
            Q(confirmed_at__gt=moment) | Q(confirmed_at=moment, pk__gt=pk)
        )
    return signatures.order_by("confirmed_at", "pk")


@dataclass(frozen=True)
class Person:
    """One mailbox (email digest) among an organization's supporters, as its newest signature
    gives it."""

    digest: str
    latest: int  # the id of that signature: with modified, where the next page starts
    modified: datetime  # the newest confirmation of a signature consenting to the organization
    consented: datetime  # the first one: since when the organization may write
    signature: Signature


def people_count(*, organization: Organization, modified_after: datetime | None) -> int:
    return _people(organization=organization, modified_after=modified_after).count()


def people_page(
    *,
    organization: Organization,
    modified_after: datetime | None,
    offset: int,
    limit: int,
    after: Cursor | None = None,
) -> tuple[list[Person], Cursor | None]:
    """One page of people, oldest change first (a sync that resumes from its newest
    modified_date misses nobody), each with their newest consenting signature; and where the
    next page starts (None on the last one). With ``after``, the page starts there, not at
    ``offset``."""
    people = _people(organization=organization, modified_after=modified_after)
    if after is not None:
        moment, pk = after
        people = people.filter(Q(modified__gt=moment) | Q(modified=moment, latest__gt=pk))
        offset = 0
    rows = list(people.order_by("modified", "latest")[offset : offset + limit + 1])
    more, rows = len(rows) > limit, rows[:limit]
    signatures = Signature.objects.select_related("petition", "source").in_bulk(
        [row["latest"] for row in rows]
    )
    found = [
        Person(
            digest=row["email_digest"],
            latest=row["latest"],
            modified=row["modified"],
            consented=row["consented"],
            signature=signatures[row["latest"]],
        )
        for row in rows
        if row["latest"] in signatures  # erased between the two queries: leave them out
    ]
    return found, ((rows[-1]["modified"], rows[-1]["latest"]) if more else None)


def _people(*, organization: Organization, modified_after: datetime | None) -> QuerySet:
    people = (
        supporter_signatures(organization=organization)
        .order_by()
        .values("email_digest")
        .annotate(
            modified=Max("confirmed_at"),
            consented=Min("confirmed_at"),
            # The newest signature (ids grow with time) holds the person's name and city now.
            latest=Max("pk"),
        )
    )
    if modified_after is not None:
        people = people.filter(modified__gt=modified_after)
    return people

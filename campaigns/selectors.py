"""Reads about campaigns and petitions. Counts come from pre-aggregated rows, never scans."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby, islice
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, Func, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from campaigns import signing
from campaigns.models import (
    Campaign,
    CampaignRevision,
    CoSponsorship,
    IssueArea,
    OutcomeEvent,
    Petition,
    PetitionCountryCount,
    Signature,
    SupporterConsent,
    SupporterExport,
)
from foundation.crypto import decrypt_many
from members.models import Organization

PUBLIC_STATUSES = [Campaign.Status.LIVE, Campaign.Status.PAUSED, Campaign.Status.CLOSED]


def issue_areas() -> QuerySet[IssueArea]:
    return IssueArea.objects.all()


def campaigns_public(
    *, issue_area: str = "", status: str = "", language: str = ""
) -> QuerySet[Campaign]:
    # The petitions come along for the cards (count, goal, sign button): one query, not one each.
    campaigns = (
        Campaign.objects.filter(status__in=PUBLIC_STATUSES)
        .select_related("issue_area")
        .prefetch_related("petitions")
    )
    if issue_area:
        campaigns = campaigns.filter(issue_area__slug=issue_area)
    if status in PUBLIC_STATUSES:
        campaigns = campaigns.filter(status=status)
    if language == "en":
        campaigns = campaigns.exclude(title_en="")
    elif language == "ru":
        campaigns = campaigns.exclude(title_ru="")
    return campaigns.order_by("-went_live_at", "-pk")


def campaign_public(*, slug: str) -> Campaign | None:
    return (
        Campaign.objects.filter(slug=slug, status__in=PUBLIC_STATUSES)
        .select_related("issue_area")
        .first()
    )


def campaign_cosponsors(*, campaign: Campaign) -> QuerySet[Organization]:
    """Co-sponsors in neutral alphabetical order: no lead, no owner."""
    return Organization.objects.filter(
        cosponsorships__campaign=campaign,
        cosponsorships__status=CoSponsorship.Status.ACCEPTED,
    ).order_by(Lower("name"))


def campaign_cosponsorships(*, campaign: Campaign) -> QuerySet[CoSponsorship]:
    return campaign.cosponsorships.select_related("organization").order_by(
        Lower("organization__name")
    )


def campaign_is_cosponsor(*, campaign: Campaign, organization: Organization) -> bool:
    return campaign.cosponsorships.filter(
        organization=organization, status=CoSponsorship.Status.ACCEPTED
    ).exists()


def campaign_revisions(*, campaign: Campaign) -> QuerySet[CampaignRevision]:
    return campaign.revisions.select_related("organization", "edited_by")


def campaign_exports(*, campaign: Campaign) -> QuerySet[SupporterExport]:
    return campaign.exports.select_related("organization", "exported_by")


def organization_campaigns(*, organization: Organization) -> QuerySet[CoSponsorship]:
    """Campaigns this organization co-sponsors or is invited to, newest first."""
    return (
        CoSponsorship.objects.filter(organization=organization)
        .exclude(status=CoSponsorship.Status.DECLINED)
        .select_related("campaign")
        .order_by("-campaign__created_at")
    )


def organizations_to_invite(*, campaign: Campaign) -> QuerySet[Organization]:
    involved = CoSponsorship.objects.filter(
        campaign=campaign,
        organization=OuterRef("pk"),
        status__in=[CoSponsorship.Status.INVITED, CoSponsorship.Status.ACCEPTED],
    )
    return (
        Organization.objects.filter(status=Organization.Status.MEMBER)
        .exclude(Exists(involved))
        .order_by(Lower("name"))
    )


def petitions_open() -> QuerySet[Petition]:
    return (
        Petition.objects.filter(campaign__status=Campaign.Status.LIVE)
        .filter(Q(deadline__isnull=True) | Q(deadline__gt=timezone.now()))
        .select_related("campaign")
        .order_by("-created_at", "-pk")
    )


def petition_public(*, slug: str) -> Petition | None:
    return (
        Petition.objects.filter(slug=slug, campaign__status__in=PUBLIC_STATUSES)
        .select_related("campaign", "campaign__issue_area")
        .first()
    )


# The sign POST's petition and co-sponsors, kept per process (issue 11): a few seconds at most,
# and only under the page version token they were read under (campaigns/page_cache.py), which
# the campaign services renew on every change of status, text or co-sponsors. Whether the
# petition is still open is checked again inside the signature's transaction
# (services.signatures._petition_now), so a cached copy never lets a closed one be signed.
SIGN_LOOKUP_SECONDS = 5.0
_SIGN_LOOKUP_MAX = 512
_sign_lookups: dict[str, tuple[float, str, Petition, tuple[Organization, ...]]] = {}


def petition_for_sign(*, slug: str) -> tuple[Petition, list[Organization]] | None:
    """A public petition (with campaign and issue area) and its co-sponsors, for a sign POST.

    The version token is read before the database, as for the cached pages: a copy read from
    data older than a change is kept under the older token and never used after it. Without a
    token (none yet, or the shared cache is down) nothing is kept."""
    from campaigns import page_cache

    version = page_cache.petition_version(slug)
    kept = _sign_lookups.get(slug)
    if version is not None and kept and kept[1] == version and kept[0] > time.monotonic():
        return kept[2], list(kept[3])
    petition = petition_public(slug=slug)
    if petition is None:
        return None
    cosponsors = tuple(campaign_cosponsors(campaign=petition.campaign))
    if version is not None:
        if len(_sign_lookups) >= _SIGN_LOOKUP_MAX:
            _sign_lookups.clear()  # bounded: a bot cannot grow it with made-up slugs anyway
        _sign_lookups[slug] = (
            time.monotonic() + SIGN_LOOKUP_SECONDS,
            version,
            petition,
            cosponsors,
        )
    return petition, list(cosponsors)


def petition_countries(*, petition: Petition) -> QuerySet[PetitionCountryCount]:
    return petition.country_counts.filter(count__gt=0).order_by("-count", "country")


def petition_recent_signers(*, petition: Petition, limit: int = 10) -> list[str]:
    """Names of recent confirmed signers who chose to be shown; never anyone else."""
    signatures = (
        Signature.objects.filter(petition=petition, status=Signature.Status.CONFIRMED)
        .exclude(display=Signature.Display.ANONYMOUS)
        .order_by("-confirmed_at")
        .only("name", "display")[:limit]
    )
    return [s.public_name for s in signatures if s.public_name]


def _consenting(*, organization: Organization) -> QuerySet[Signature]:
    """Confirmed signers who consented to hear from this organization only: the one place the
    export's consent rule is written."""
    consented = SupporterConsent.objects.filter(signature=OuterRef("pk"), organization=organization)
    return Signature.objects.filter(status=Signature.Status.CONFIRMED).filter(Exists(consented))


def _supporters_consented(*, campaign: Campaign, organization: Organization) -> QuerySet[Any]:
    return (
        _consenting(organization=organization)
        .filter(petition__campaign=campaign)
        .order_by("petition_id", "pk")  # the fast path's order: petition by petition
        .values_list(
            "name", "email", "country", "city", "petition__slug", "confirmed_at", "wants_updates"
        )
    )


def supporters_for_export(
    *, campaign: Campaign, organization: Organization
) -> Iterator[tuple[Any, ...]]:
    """Confirmed signers of this campaign who consented to hear from this organization only.

    Plain tuples (name, email, country, city, petition slug, confirmed at, wants the campaign's
    updates): an export of a
    million rows must not build a million model instances. Iterate inside a transaction so
    PostgreSQL streams from a cursor instead of materializing the result first (WITH HOLD).
    """
    return _supporters_consented(campaign=campaign, organization=organization).iterator(
        chunk_size=2000
    )


class _IsoUtc(Func):
    """A timestamptz as ``datetime.isoformat()`` writes it in UTC, always with microseconds
    (``_export_columns`` drops ".000000", as isoformat does); '' for none."""

    template = (
        "COALESCE(to_char(%(expressions)s AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), '')"
    )
    output_field = CharField()


@dataclass(frozen=True)
class ExportColumns:
    """One batch of the supporter export, column by column, all from one petition."""

    name: Sequence[str]
    email: Sequence[str]
    country: Sequence[str]
    city: Sequence[str]
    petition: str  # its slug
    confirmed_at: Sequence[str]  # ISO 8601 in UTC, as isoformat(); '' for none
    wants_updates: Sequence[str]  # "t" or "f", PostgreSQL's text of a boolean

    def __len__(self) -> int:
        return len(self.name)


def supporter_export_queries(
    *, campaign: Campaign, organization: Organization
) -> list[tuple[str, str, list[Any]]]:
    """(petition slug, SQL, parameters) of each of the campaign's petitions, in order: the
    export's rows as ``COPY`` sends them. One query per petition, each ordered by signature:
    the partial index ``signature_confirmed_order`` (petition, id) serves the order, so
    PostgreSQL streams the first rows at once instead of sorting the whole result first."""
    queries = []
    for petition in campaign.petitions.order_by("pk").only("pk", "slug"):
        query = (
            _consenting(organization=organization)
            .filter(petition=petition)
            .order_by("pk")
            .values_list(
                "name", "email", "country", "city", _IsoUtc("confirmed_at"), "wants_updates"
            )
        )
        sql, params = query.query.sql_with_params()
        queries.append((petition.slug, sql, list(params)))
    return queries


def supporters_for_export_columns(
    *, campaign: Campaign, organization: Organization, batch: int = 2000
) -> Iterator[ExportColumns]:
    """The rows of ``supporters_for_export``, decrypted, ``batch`` at a time and column by
    column, for a million-row export: PostgreSQL sends them with ``COPY ... TO STDOUT`` (no
    per-row protocol round, no type conversion), a batch is split into columns by a few C
    calls and its three encrypted columns are decrypted together
    (``foundation.crypto.decrypt_many``). Memory: one batch at a time.

    Its own transaction, REPEATABLE READ and read-only where it is the outermost one: the
    petitions' queries all read one snapshot, as one statement would. Inside a caller's
    transaction it reads in that transaction.
    """
    if connection.vendor != "postgresql":  # development on SQLite: no COPY, the model rows
        yield from _export_columns_from_models(campaign, organization, batch)
        return
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # Compiling a million-row plan's expressions cost ~120 ms before the first row, for
        # nothing: these queries compute no expression worth compiling.
        cursor.execute("SET LOCAL jit = off")
        for slug, sql, params in supporter_export_queries(
            campaign=campaign, organization=organization
        ):
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
                # PostgreSQL sends a row per message, each ending in a newline.
                rows = iter(copy)
                while data := b"".join(islice(rows, batch)):
                    yield _export_columns(data, slug)


def _export_columns_from_models(
    campaign: Campaign, organization: Organization, batch: int
) -> Iterator[ExportColumns]:
    with transaction.atomic():
        rows = supporters_for_export(campaign=campaign, organization=organization)
        for slug, of_petition in groupby(rows, key=itemgetter(4)):
            while chunk := list(islice(of_petition, batch)):
                name, email, country, city, _slug, when, wants = zip(*chunk, strict=True)
                yield ExportColumns(
                    name=name,
                    email=email,
                    country=country,
                    city=city,
                    petition=slug,
                    confirmed_at=[w.isoformat() if w else "" for w in when],
                    wants_updates=["t" if w else "f" for w in wants],
                )


# COPY's text format escapes these in a value (a backslash, then a letter or itself).
_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_COPY_ESCAPE = re.compile(r"\\(.)")


def _export_columns(data: bytes, petition: str) -> ExportColumns:
    """A batch of COPY text (name, email, country, city, confirmed_at, wants_updates) as
    decrypted columns: a few passes of C over the whole batch, none per field in Python."""
    text = data.decode()
    rows = text.count("\n")
    if not text.endswith("\n"):
        raise ValueError("COPY sent a partial row")
    # isoformat() leaves out a zero fraction; the timestamp is the only value with one.
    text = text.replace(".000000+00:00\t", "+00:00\t")
    # Tabs and newlines inside a value are escaped, so every tab or newline ends a field.
    fields = text[:-1].replace("\n", "\t").split("\t")
    if len(fields) != 6 * rows:
        raise ValueError("COPY sent rows of another shape")
    if "\\" in text:  # an escaped character (none of these columns normally has one)
        fields = [_COPY_ESCAPE.sub(_copy_unescape, value) for value in fields]
    name, email, country, city, confirmed_at, wants_updates = (fields[i::6] for i in range(6))
    plain = decrypt_many(name + email + city)
    n = len(name)
    return ExportColumns(
        name=plain[:n],
        email=plain[n : 2 * n],
        country=country,
        city=plain[2 * n :],
        petition=petition,
        confirmed_at=confirmed_at,
        wants_updates=wants_updates,
    )


def _copy_unescape(match: re.Match[str]) -> str:
    return _COPY_ESCAPES[match.group(1)]


# --- what a signer is about to confirm ----------------------------------------------------------

# From least to most exposed. The confirmation page may only move a signature down this list:
# the link can leak (a forwarded mail, a shared mailbox), and a leaked link must never be able to
# show more of a person, or hand their address to more organizations, than they chose.
DISPLAY_EXPOSURE: list[str] = [
    Signature.Display.ANONYMOUS,
    Signature.Display.FIRST_NAME_INITIAL,
    Signature.Display.FULL_NAME,
]


@dataclass(frozen=True)
class SignatureReview:
    """Everything a signer confirms, as the confirmation mail and page show it."""

    signature: Signature
    petition: Petition
    public_name: str  # "" when anonymous
    consented: list[Organization]  # co-sponsors the signer allowed to contact them
    not_consented: list[Organization]  # co-sponsors they did not

    @property
    def confirmed(self) -> bool:
        return self.signature.status == Signature.Status.CONFIRMED

    @property
    def not_me_path(self) -> str:
        """The "it wasn't me" action, offered beside the confirm button to the same link holder."""
        return reverse("campaigns:not_me", args=[signing.token_make(self.signature.pk, "not-me")])

    def display_choices(self) -> list[tuple[str, str]]:
        """The ways to show the name that are no more exposed than the one chosen when signing."""
        allowed = DISPLAY_EXPOSURE[: DISPLAY_EXPOSURE.index(self.signature.display) + 1]
        choices = []
        for display in reversed(allowed):
            preview = Signature(name=self.signature.name, display=display).public_name
            label = str(Signature.Display(display).label)
            choices.append((str(display), f"{label}: {preview}" if preview else label))
        return choices


def signature_review(
    *,
    signature: Signature,
    consents: list[Organization] | None = None,
    cosponsors: list[Organization] | None = None,
) -> SignatureReview:
    """``consents`` and ``cosponsors``: when the caller has just read them (the sign path)."""
    if consents is None:
        consents = [c.organization for c in signature.consents.select_related("organization")]
    if cosponsors is None:
        cosponsors = list(campaign_cosponsors(campaign=signature.petition.campaign))
    given = {organization.pk for organization in consents}
    return SignatureReview(
        signature=signature,
        petition=signature.petition,
        public_name=signature.public_name,
        consented=sorted(consents, key=lambda organization: organization.name.lower()),
        not_consented=[o for o in cosponsors if o.pk not in given],
    )


def signature_review_by_token(*, token: str) -> SignatureReview | None:
    """What the holder of a confirmation link is about to confirm; None if the link is dead."""
    signature_id = signing.token_read(token, "confirm", settings.SIGNATURE_CONFIRM_WITHIN)
    if signature_id is None:
        return None
    signature = (
        Signature.objects.select_related("petition__campaign").filter(pk=signature_id).first()
    )
    return None if signature is None else signature_review(signature=signature)


def outcome_evidence_public(*, pk: int) -> OutcomeEvent | None:
    """An outcome with an evidence file, on a campaign the public may see."""
    return (
        OutcomeEvent.objects.filter(pk=pk, campaign__status__in=PUBLIC_STATUSES)
        .exclude(evidence_file="")
        .first()
    )

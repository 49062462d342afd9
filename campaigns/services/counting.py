"""Counting: every attempt and confirmation is a delta row; a periodic fold adds them into the
per-petition, country, hour, source and channel totals (no hot row is updated per signature)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns import events, page_cache
from campaigns.models import (
    OutcomeEvent,
    Petition,
    PetitionChannelCount,
    PetitionCountryCount,
    PetitionHourCount,
    PetitionSourceCount,
    Signature,
    SignatureCountDelta,
)
from foundation.inserts import row_insert
from members.models import Organization


def _count_attempt(petition: Petition, *, country: str, source: Organization | None) -> None:
    # Every sign POST writes this row: one INSERT, without save()'s bookkeeping (issue 11).
    row_insert(
        SignatureCountDelta(
            petition_id=petition.pk,
            kind=SignatureCountDelta.Kind.STARTED,
            country=str(country),
            source_org_id=source.pk if source is not None else 0,
            hour=_hour(timezone.now()),
            delta=1,
        )
    )


MILESTONES = (100, 1_000, 10_000, 100_000, 1_000_000)


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _count(
    signature: Signature, kind: str, delta: int, at: datetime | None = None
) -> SignatureCountDelta:
    return SignatureCountDelta.objects.create(
        petition_id=signature.petition_id,
        kind=kind,
        country=str(signature.country),
        source_org_id=signature.source_id or 0,
        hour=_hour(at or timezone.now()),
        delta=delta,
    )


def signature_counts_fold(*, batch: int = 5000) -> int:
    """Fold pending count deltas into the per-petition, country, hour and source totals.

    Runs every two seconds; concurrent runs take disjoint batches (skip_locked).
    """
    with transaction.atomic():
        deltas = list(
            SignatureCountDelta.objects.select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list(
                "pk", "petition_id", "kind", "country", "source_org_id", "hour", "delta", "channel"
            )[:batch]
        )
        if not deltas:
            return 0
        confirmed: dict[int, int] = defaultdict(int)
        started: dict[int, int] = defaultdict(int)
        by_country: dict[tuple[int, str], int] = defaultdict(int)
        by_source: dict[tuple[int, int], int] = defaultdict(int)
        by_hour: dict[tuple[int, datetime], list[int]] = defaultdict(lambda: [0, 0])
        by_channel: dict[tuple[int, str], int] = defaultdict(int)
        for _pk, petition_id, kind, country, source, hour, delta, channel in deltas:
            if kind == SignatureCountDelta.Kind.VISIT:
                by_channel[(petition_id, channel)] += delta
                continue
            if kind == SignatureCountDelta.Kind.STARTED:
                started[petition_id] += delta
                by_hour[(petition_id, hour)][0] += delta
                continue
            confirmed[petition_id] += delta
            by_country[(petition_id, country)] += delta
            by_source[(petition_id, source)] += delta
            by_hour[(petition_id, hour)][1] += delta
        for (petition_id, country), delta in by_country.items():
            row, _new = PetitionCountryCount.objects.get_or_create(
                petition_id=petition_id, country=country
            )
            PetitionCountryCount.objects.filter(pk=row.pk).update(count=F("count") + delta)
        for (petition_id, source), delta in by_source.items():
            source_row, _new = PetitionSourceCount.objects.get_or_create(
                petition_id=petition_id, source_org_id=source
            )
            PetitionSourceCount.objects.filter(pk=source_row.pk).update(
                confirmed=F("confirmed") + delta
            )
        for (petition_id, channel), delta in by_channel.items():
            channel_row, _new = PetitionChannelCount.objects.get_or_create(
                petition_id=petition_id, channel=channel
            )
            PetitionChannelCount.objects.filter(pk=channel_row.pk).update(
                visits=F("visits") + delta
            )
        for (petition_id, hour), (n_started, n_confirmed) in by_hour.items():
            hour_row, _new = PetitionHourCount.objects.get_or_create(
                petition_id=petition_id, hour=hour
            )
            PetitionHourCount.objects.filter(pk=hour_row.pk).update(
                started=F("started") + n_started, confirmed=F("confirmed") + n_confirmed
            )
        shown: set[int] = set()
        for petition_id in set(confirmed) | set(started):
            petition = Petition.objects.select_for_update().get(pk=petition_id)
            before = petition.confirmed_count
            petition.confirmed_count += confirmed.get(petition_id, 0)
            petition.started_count += started.get(petition_id, 0)
            petition.save(update_fields=["confirmed_count", "started_count"])
            _milestones(petition, before)
            if petition_id in confirmed:  # the count, countries and recent names shown
                shown.add(petition.campaign_id)
        page_cache.public_pages_changed(campaign_ids=shown)
        SignatureCountDelta.objects.filter(pk__in=[d[0] for d in deltas]).delete()
        return len(deltas)


def _milestones(petition: Petition, before: int) -> None:
    """Crossing a round number or the goal puts a milestone on the campaign's timeline."""
    after = petition.confirmed_count
    for threshold in sorted({*MILESTONES, petition.goal}):
        if before < threshold <= after:
            milestone = OutcomeEvent.objects.create(
                campaign_id=petition.campaign_id,
                kind=OutcomeEvent.Kind.MILESTONE,
                date=timezone.now().date(),
                description_en=f"{threshold:,} confirmed signatures on “{petition.title_en}”"
                if petition.title_en
                else "",
                description_ru=(
                    f"{threshold:,} подтверждённых подписей: «{petition.title_ru}»"
                    if petition.title_ru
                    else ""
                ),
                system=True,
            )
            events.event_emit(events.OUTCOME_RECORDED, outcome=milestone)


def signature_counts_rebuild(*, petition: Petition) -> None:
    """Recount from the signatures themselves (repair tool; scans, so never on a page view).

    Signatures that expired unconfirmed are gone, and repeated attempts never had a row, so the
    rebuilt "started" figures count only the signatures that still exist, not every attempt.
    """
    with transaction.atomic():
        Petition.objects.select_for_update().get(pk=petition.pk)
        # Share-link visits are not recounted from signatures: their pending deltas stay.
        SignatureCountDelta.objects.filter(petition=petition).exclude(
            kind=SignatureCountDelta.Kind.VISIT
        ).delete()
        started_hours: dict[datetime, int] = defaultdict(int)
        for created in (
            Signature.objects.filter(petition=petition)
            .values_list("created_at", flat=True)
            .iterator()
        ):
            started_hours[_hour(created)] += 1
        confirmed = Signature.objects.filter(petition=petition, status=Signature.Status.CONFIRMED)
        countries: dict[str, int] = defaultdict(int)
        sources: dict[int, int] = defaultdict(int)
        hours: dict[datetime, int] = defaultdict(int)
        for country, source, at in confirmed.values_list(
            "country", "source_id", "confirmed_at"
        ).iterator():
            countries[country] += 1
            sources[source or 0] += 1
            hours[_hour(at or timezone.now())] += 1
        PetitionCountryCount.objects.filter(petition=petition).delete()
        PetitionCountryCount.objects.bulk_create(
            [
                PetitionCountryCount(petition=petition, country=c, count=n)
                for c, n in countries.items()
            ]
        )
        PetitionSourceCount.objects.filter(petition=petition).delete()
        PetitionSourceCount.objects.bulk_create(
            [
                PetitionSourceCount(petition=petition, source_org_id=k, confirmed=n)
                for k, n in sources.items()
            ]
        )
        PetitionHourCount.objects.filter(petition=petition).delete()
        PetitionHourCount.objects.bulk_create(
            [
                PetitionHourCount(
                    petition=petition, hour=h, started=started_hours.get(h, 0), confirmed=hours[h]
                )
                for h in set(hours) | set(started_hours)
            ]
        )
        Petition.objects.filter(pk=petition.pk).update(
            confirmed_count=sum(countries.values()), started_count=sum(started_hours.values())
        )
        page_cache.public_pages_changed(campaign_ids=[petition.campaign_id])

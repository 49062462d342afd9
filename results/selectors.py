"""Every figure on the dashboards and the public record comes from here (and tests check these).

Signature figures read pre-aggregated rows (per hour, per country, per source) that the counting
job maintains, so they stay fast with millions of signatures.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django_countries import countries as country_names

from campaigns.models import (
    Campaign,
    CoSponsorship,
    IssueArea,
    OutcomeEvent,
    PetitionChannelCount,
    PetitionCountryCount,
    PetitionHourCount,
    PetitionSourceCount,
)
from campaigns.sharing import CHANNELS
from members.models import Organization, Vote
from outbox.models import Email
from outreach.models import Contact, Letter, Reply

PUBLIC = [Campaign.Status.LIVE, Campaign.Status.PAUSED, Campaign.Status.CLOSED]


def campaign_timeline(*, campaign: Campaign) -> QuerySet[OutcomeEvent]:
    return campaign.events.select_related("recorded_by").order_by("-date", "-created_at")


def campaign_public_replies(*, campaign: Campaign) -> QuerySet[Reply]:
    """Replies a co-sponsor published: an emailed one is public only after review (it may quote
    a signer's letter); until then the timeline says only that a reply came."""
    return (
        campaign.replies.filter(published_at__isnull=False)
        .select_related("contact")
        .order_by("-received_at")
    )


def signatures_hourly(*, campaign: Campaign, hours: int = 72) -> list[tuple[datetime, int]]:
    since = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    rows = (
        PetitionHourCount.objects.filter(petition__campaign=campaign, hour__gte=since)
        .values("hour")
        .annotate(n=Sum("confirmed"))
    )
    by_hour = {row["hour"]: row["n"] for row in rows}
    return [
        (since + timedelta(hours=i), by_hour.get(since + timedelta(hours=i), 0))
        for i in range(hours)
    ]


def signatures_daily(*, campaign: Campaign) -> list[tuple[Any, int]]:
    rows = (
        PetitionHourCount.objects.filter(petition__campaign=campaign)
        .annotate(day=TruncDate("hour"))
        .values("day")
        .annotate(n=Sum("confirmed"))
        .order_by("day")
    )
    return [(row["day"], row["n"]) for row in rows]


def campaign_signature_figures(*, campaign: Campaign) -> dict[str, Any]:
    totals = campaign.petitions.aggregate(
        confirmed=Sum("confirmed_count"), started=Sum("started_count")
    )
    confirmed, started = totals["confirmed"] or 0, totals["started"] or 0
    countries = (
        PetitionCountryCount.objects.filter(petition__campaign=campaign, count__gt=0)
        .values("country")
        .annotate(n=Sum("count"))
        .order_by("-n", "country")
    )
    names = dict(Organization.objects.values_list("pk", "name"))
    sources = (
        PetitionSourceCount.objects.filter(petition__campaign=campaign, confirmed__gt=0)
        .values("source_org_id")
        .annotate(n=Sum("confirmed"))
        .order_by("-n")
    )
    return {
        "confirmed": confirmed,
        "started": started,
        "confirmation_rate": round(100 * confirmed / started) if started else None,
        "by_country": [
            (country_names.name(r["country"]) or r["country"], r["n"]) for r in countries
        ],
        "by_source": [(names.get(r["source_org_id"], "") or "—", r["n"]) for r in sources],
        "by_channel": campaign_share_channels(campaign=campaign),
    }


def campaign_share_channels(*, campaign: Campaign) -> list[tuple[str, int]]:
    """Visits through share links per channel (all the campaign's petitions), in the order the
    links are shown. Folded counts only: nothing here can lead back to a visitor or a signer."""
    visits = dict(
        PetitionChannelCount.objects.filter(petition__campaign=campaign, visits__gt=0)
        .values("channel")
        .annotate(n=Sum("visits"))
        .values_list("channel", "n")
    )
    return [(str(label), visits[code]) for code, label in CHANNELS.items() if code in visits]


def campaign_letter_figures(*, campaign: Campaign) -> dict[str, Any]:
    """Letters per institution: queued / sent / failed / replied, reply rate and median delay."""
    letters = Letter.objects.filter(letter_campaign__campaign=campaign)
    per_institution: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"queued": 0, "sent": 0, "bounced": 0, "failed": 0, "replied": 0, "delays": []}
    )
    for row in letters.values("contact__institution", "contact__status", "email__status").annotate(
        n=Count("pk")
    ):
        bucket = per_institution[row["contact__institution"]]
        status = row["email__status"]
        if status in {Email.Status.QUEUED, Email.Status.SENDING}:
            bucket["queued"] += row["n"]
        elif status == Email.Status.SENT:
            bucket["sent"] += row["n"]
        elif row["contact__status"] == Contact.Status.BOUNCING:
            bucket["bounced"] += row["n"]
        else:
            bucket["failed"] += row["n"]
    first_sent: dict[int, datetime] = {}
    for contact_id, sent_at in letters.filter(email__sent_at__isnull=False).values_list(
        "contact_id", "email__sent_at"
    ):
        if sent_at is not None and (
            contact_id not in first_sent or sent_at < first_sent[contact_id]
        ):
            first_sent[contact_id] = sent_at
    replied_contacts: set[int] = set()
    for reply in Reply.objects.filter(campaign=campaign, contact__isnull=False).select_related(
        "contact"
    ):
        if reply.contact is None or reply.contact.pk in replied_contacts:
            continue
        replied_contacts.add(reply.contact.pk)
        bucket = per_institution[reply.contact.institution]
        bucket["replied"] += 1
        # A reply dated before the first letter is refused when recorded; one in the data from
        # before that rule answers no letter of ours and gives no delay (never a negative one).
        if reply.contact.pk in first_sent and reply.received_at >= first_sent[reply.contact.pk]:
            bucket["delays"].append((reply.received_at - first_sent[reply.contact.pk]).days)
    contacted = defaultdict(set)
    for institution, contact_id in letters.values_list("contact__institution", "contact_id"):
        contacted[institution].add(contact_id)
    rows = []
    for institution, bucket in sorted(per_institution.items()):
        reached = len(contacted.get(institution, ())) or None
        delays = bucket.pop("delays")
        rows.append(
            {
                "institution": Contact.Institution(institution).label,
                **bucket,
                "reply_rate": round(100 * bucket["replied"] / reached) if reached else None,
                "median_days_to_reply": statistics.median(delays) if delays else None,
            }
        )
    answers = dict(
        letters.exclude(signer_answer="").values_list("signer_answer").annotate(n=Count("pk"))
    )
    return {
        "institutions": rows,
        "signer_answers": {k: answers.get(k, 0) for k in ("yes", "no", "not_yet")},
    }


def coalition_figures() -> dict[str, Any]:
    campaigns = Campaign.objects.exclude(status=Campaign.Status.DRAFT)
    by_status = dict(campaigns.values_list("status").annotate(n=Count("pk")))
    by_result = dict(campaigns.exclude(result="").values_list("result").annotate(n=Count("pk")))
    signatures_per_month = [
        (row["month"], row["n"])
        for row in PetitionHourCount.objects.annotate(month=TruncMonth("hour"))
        .values("month")
        .annotate(n=Sum("confirmed"))
        .order_by("month")
    ]
    letters_per_month = [
        (row["month"], row["n"])
        for row in Email.objects.filter(kind="outreach.letter", status=Email.Status.SENT)
        .annotate(month=TruncMonth("sent_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    ]
    top_areas = list(
        IssueArea.objects.annotate(
            signatures=Sum("campaigns__petitions__confirmed_count"),
            campaign_count=Count("campaigns", distinct=True),
        )
        .filter(campaign_count__gt=0)
        .order_by(F("signatures").desc(nulls_last=True))
    )
    return {
        "by_status": [(Campaign.Status(k).label, v) for k, v in sorted(by_status.items())],
        "by_result": [(Campaign.Result(k).label, v) for k, v in sorted(by_result.items())],
        "signatures_per_month": signatures_per_month,
        "letters_per_month": letters_per_month,
        "top_areas": [(a.name, a.signatures or 0) for a in top_areas],
    }


def organization_record(*, organization: Organization) -> dict[str, Any]:
    """The public track record of one organization."""
    cosponsored = Campaign.objects.filter(
        status__in=PUBLIC,
        cosponsorships__organization=organization,
        cosponsorships__status__in=[CoSponsorship.Status.ACCEPTED, CoSponsorship.Status.WITHDRAWN],
    ).distinct()
    gathered = PetitionSourceCount.objects.filter(source_org_id=organization.pk).aggregate(
        n=Sum("confirmed")
    )["n"]
    letters = Letter.objects.filter(
        letter_campaign__campaign__in=cosponsored, email__status=Email.Status.SENT
    ).count()
    replies = Reply.objects.filter(campaign__in=cosponsored).count()
    return {
        "campaigns": cosponsored.order_by("-went_live_at"),
        "signatures_gathered": gathered or 0,
        "letters_delivered": letters,
        "replies": replies,
        "decisions_voted": Vote.objects.filter(organization=organization).count(),
        "joined_at": organization.joined_at,
    }


def results_public() -> dict[str, QuerySet[Campaign]]:
    base = Campaign.objects.select_related("issue_area").prefetch_related("events")
    return {
        "won": base.filter(
            status=Campaign.Status.CLOSED,
            result__in=[Campaign.Result.WON, Campaign.Result.PARTLY_WON],
        ).order_by("-closed_at"),
        "ongoing": base.filter(status__in=[Campaign.Status.LIVE, Campaign.Status.PAUSED]).order_by(
            "-went_live_at"
        ),
        "other": base.filter(
            status=Campaign.Status.CLOSED,
            result__in=[Campaign.Result.LOST, Campaign.Result.WITHDRAWN],
        ).order_by("-closed_at"),
    }


def campaigns_for_staff(*, query: str = "", status: str = "") -> QuerySet[Campaign]:
    campaigns = Campaign.objects.select_related("issue_area").annotate(
        signatures=Sum("petitions__confirmed_count")
    )
    if query:
        campaigns = campaigns.filter(Q(title_en__icontains=query) | Q(title_ru__icontains=query))
    if status:
        campaigns = campaigns.filter(status=status)
    return campaigns.order_by("-created_at")

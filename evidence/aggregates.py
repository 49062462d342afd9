"""The public figures of case reports, and the rule that keeps any one report from showing.

The rule (README "Case reports and evidence" repeats it):

1. Only one-dimensional tables are published, per issue area: reports by country, by institution
   (bank or authority), by kind of event and by month. No cross-table (country x bank) is ever
   published, on the pages, in the open data or in a frozen summary.
2. A cell is named (listed at all) only with at least ``EVIDENCE_MIN_CELL`` (k) VERIFIED reports
   (reviewed by a moderator of a member organization). Reports nobody reviewed never decide
   whether a cell appears: otherwise k-1 made-up reports would make a cell appear exactly when
   one real report is there. Cells under k are not listed by name (that a bank appears would
   already say someone reported it): they are merged into one "fewer than k verified each" row.
   Every named row's verified count is at least k, so the published total minus the published
   cells gives only the merged row's sum, never a named cell's count.
3. Two columns: reported (confirmed by the reporter from the emailed link, not rejected) and
   verified. The reported figure is shown only in named rows (never in the merged row); the
   totals are published only when they reach k.
4. Figures are as of the start of the day (UTC) ``EVIDENCE_AS_OF_DAYS`` days ago (default 1),
   and from each report's status AS OF that cut-off, never its current one: a report counts as
   verified from ``verified_at`` (set once at its first verification; writing or approving its
   public version later does not move it) and stops counting from ``rejected_at``. So no act of
   today changes today's figures (one exception: a rejected report verified again counts as
   verified from that new verification, but its reported figure returns at once; a rare act,
   tied to no published text). Within one day's batch, reports arriving together blur each
   other; what remains (a day with a single report that moves named cells in several tables
   at once) is the residual risk we accept with k >= 5 and no cross-tables.
5. One mailbox cannot fill a cell: a report repeating one the same mailbox already sent
   (country, institution, event, month) counts once, and at most ``EVIDENCE_MAX_PER_MAILBOX``
   (default 3) reports of one mailbox count per issue area. Reports are kept; only the figures
   skip them.
6. Redacted accounts are never shown next to a row, and are released on a schedule of their
   own, unrelated to any verification day (evidence/services.py ``accounts_release``): only
   on release days (every ``EVIDENCE_ACCOUNT_RELEASE_EVERY_DAYS``, default 7), only at least
   ``EVIDENCE_ACCOUNT_DELAY_DAYS`` (default 14) after the report's verification and the second
   organization's approval of the text, and only in batches of at least k accounts. So the day
   an account appears is not the day its report's cells moved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django_countries import countries

from campaigns.models import IssueArea
from evidence.models import CaseReport, Term

DIMENSIONS = ("country", "institution", "event", "month")
SMALL = "__small__"  # the key of the merged row of cells under k
OTHER = "__other__"  # "not on the list": a report that chose "other" with its own words


def min_cell() -> int:
    return max(1, int(settings.EVIDENCE_MIN_CELL))


def as_of_now(now: datetime | None = None) -> datetime:
    """The moment the public figures are taken at (rule 4)."""
    now = now or timezone.now()
    days = int(settings.EVIDENCE_AS_OF_DAYS)
    if days <= 0:
        return now
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=days - 1)


def _published(counts: Counter[str], k: int) -> tuple[dict[str, int], int]:
    """Cells of at least k, and the sum of the others (rule 2)."""
    shown = {key: n for key, n in counts.items() if n >= k}
    return shown, sum(n for key, n in counts.items() if key not in shown)


def _labels(dimension: str, keys: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each key's label in every language, stored in frozen summaries as they read that day."""
    labels: dict[str, dict[str, str]] = {}
    keys = [k for k in keys if k not in {SMALL, OTHER}]
    if dimension == "country":
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                for key in keys:
                    labels.setdefault(key, {})[code] = str(countries.name(key)) or key
    elif dimension in {"institution", "event"}:
        for term in Term.objects.filter(pk__in=[int(k) for k in keys]):
            labels[str(term.pk)] = {
                "en": term.name_en or term.name_ru,
                "ru": term.name_ru or term.name_en,
            }
    else:
        labels = {key: {"en": key, "ru": key} for key in keys}
    return labels


def area_tables(*, issue_area: IssueArea, as_of: datetime | None = None) -> dict[str, Any]:
    """The published figures of one issue area, as plain data (JSON, CSV and snapshots)."""
    as_of = as_of or as_of_now()
    k = min_cell()
    rows = list(
        CaseReport.objects.filter(
            issue_area=issue_area,
            status__in=[
                CaseReport.Status.CONFIRMED,
                CaseReport.Status.VERIFIED,
                CaseReport.Status.REJECTED,  # rejected after the cut-off: still counts (rule 4)
            ],
            confirmed_at__lt=as_of,
        )
        .exclude(rejected_at__lt=as_of)
        .order_by("confirmed_at", "pk")
        .values_list(
            "email_digest", "country", "institution_id", "event_id", "month", "verified_at"
        )
    )
    reported: dict[str, Counter[str]] = {d: Counter() for d in DIMENSIONS}
    verified: dict[str, Counter[str]] = {d: Counter() for d in DIMENSIONS}
    reported_total = verified_total = 0
    seen: set[tuple[Any, ...]] = set()
    per_mailbox: Counter[str] = Counter()
    for digest, country, institution, event, month, verified_at in rows:
        # One mailbox cannot fill a cell alone (rule 5): the same case sent twice counts once,
        # and at most EVIDENCE_MAX_PER_MAILBOX reports of one mailbox count in an area.
        case = (digest, country, institution, event, month)
        if case in seen or per_mailbox[digest] >= settings.EVIDENCE_MAX_PER_MAILBOX:
            continue
        seen.add(case)
        per_mailbox[digest] += 1
        keys = {
            "country": str(country),
            "institution": str(institution) if institution else OTHER,
            "event": str(event) if event else OTHER,
            "month": month.strftime("%Y-%m"),
        }
        # Status as of the cut-off, never the current one (rule 4): verified_at is set once.
        is_verified = verified_at is not None and verified_at < as_of
        reported_total += 1
        verified_total += int(is_verified)
        for dimension, key in keys.items():
            reported[dimension][key] += 1
            if is_verified:
                verified[dimension][key] += 1
    tables: dict[str, list[dict[str, Any]]] = {}
    for dimension in DIMENSIONS:
        # A cell is named by its VERIFIED count only (rule 2): reports nobody reviewed (which
        # anyone can make up) never decide whether a cell appears.
        named, small_verified = _published(verified[dimension], k)
        labels = _labels(dimension, named)
        if dimension == "month":
            order = sorted(named)
        else:
            order = sorted(named, key=lambda key: (-named[key], key))
        table = [
            {
                "key": key,
                "label": labels.get(key, {"en": "Not on the list", "ru": "Нет в списке"}),
                "reported": reported[dimension][key],
                "verified": named[key],
            }
            for key in order
        ]
        if any(key not in named for key in reported[dimension]):
            table.append(
                {
                    "key": SMALL,
                    "label": {
                        "en": f"Fewer than {k} verified reports each",
                        "ru": f"Меньше {k} проверенных сообщений в каждой строке",
                    },
                    # The merged row's reported figure is never shown (rule 3).
                    "reported": None,
                    "verified": small_verified if small_verified >= k else None,
                }
            )
        tables[dimension] = table
    return {
        "issue_area": issue_area.slug,
        "issue_area_name": {"en": issue_area.name_en, "ru": issue_area.name_ru},
        "as_of": as_of.isoformat(),
        "min_cell": k,
        "reported_total": reported_total if reported_total >= k else None,
        "verified_total": verified_total if verified_total >= k else None,
        "tables": tables,
    }


def label(cell: dict[str, Any]) -> str:
    """A cell's label in the reader's language."""
    language = (translation.get_language() or "en")[:2]
    names = cell.get("label") or {}
    return str(names.get(language) or names.get("en") or cell.get("key", ""))

"""The public figures of case reports, and the rule that keeps any one report from showing.

The rule (README "Case reports and evidence" repeats it):

1. Only one-dimensional tables are published, per issue area: reports by country, by institution
   (bank or authority), by kind of event and by month. No cross-table (country x bank) is ever
   published, on the pages, in the open data or in a frozen summary.
2. A cell is published only with at least ``EVIDENCE_MIN_CELL`` (k) reports. Cells under k are
   not listed by name at all (that a bank appears would already say someone reported it): they
   are merged into one "fewer than k each" row, whose count is published only if it reaches k.
   So the published cells and the area's total cannot be subtracted to recover a named cell.
3. Two columns: reported (confirmed by the reporter from the emailed link, not rejected) and
   verified (reviewed by a moderator of a member organization). Each column follows rule 2 on
   its own; the totals are published only when they reach k.
4. Figures are as of the start of the day (UTC) ``EVIDENCE_AS_OF_DAYS`` days ago (default 1:
   reports confirmed and reviewed before today). A watcher who reloads the page cannot tie a
   report confirmed a minute ago to the cells that moved; within one day's batch, reports
   arriving together blur each other. What remains (a day with a single report that moves
   named cells in several tables at once) is the residual risk we accept with k >= 5 and no
   cross-tables; raise k or the delay to lower it.
5. One mailbox cannot fill a cell: a report repeating one the same mailbox already sent
   (country, institution, event, month) counts once, and at most ``EVIDENCE_MAX_PER_MAILBOX``
   (default 3) reports of one mailbox count per issue area. Reports are kept; only the figures
   skip them. Redacted accounts are published under the same delay, and never next to a row.
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
            status__in=[CaseReport.Status.CONFIRMED, CaseReport.Status.VERIFIED],
            confirmed_at__lt=as_of,
        )
        .order_by("confirmed_at", "pk")
        .values_list(
            "email_digest",
            "country",
            "institution_id",
            "event_id",
            "month",
            "status",
            "moderated_at",
        )
    )
    reported: dict[str, Counter[str]] = {d: Counter() for d in DIMENSIONS}
    verified: dict[str, Counter[str]] = {d: Counter() for d in DIMENSIONS}
    reported_total = verified_total = 0
    seen: set[tuple[Any, ...]] = set()
    per_mailbox: Counter[str] = Counter()
    for digest, country, institution, event, month, status, moderated_at in rows:
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
        is_verified = (
            status == CaseReport.Status.VERIFIED
            and moderated_at is not None
            and moderated_at < as_of
        )
        reported_total += 1
        verified_total += int(is_verified)
        for dimension, key in keys.items():
            reported[dimension][key] += 1
            if is_verified:
                verified[dimension][key] += 1
    tables: dict[str, list[dict[str, Any]]] = {}
    for dimension in DIMENSIONS:
        shown, small = _published(reported[dimension], k)
        shown_verified, small_verified = _published(verified[dimension], k)
        labels = _labels(dimension, shown)
        if dimension == "month":
            order = sorted(shown)
        else:
            order = sorted(shown, key=lambda key: (-shown[key], key))
        table = [
            {
                "key": key,
                "label": labels.get(key, {"en": "Not on the list", "ru": "Нет в списке"}),
                "reported": shown[key],
                "verified": shown_verified.get(key),
            }
            for key in order
        ]
        # Verified cells of at least k whose reported cell is shown are above; any other
        # verified count (under k, or in a small reported cell) goes to the merged row.
        small_verified += sum(n for key, n in shown_verified.items() if key not in shown)
        if small:
            table.append(
                {
                    "key": SMALL,
                    "label": {
                        "en": f"Fewer than {k} reports each",
                        "ru": f"Меньше {k} сообщений в каждой строке",
                    },
                    "reported": small if small >= k else None,
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

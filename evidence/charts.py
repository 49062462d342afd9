"""The evidence tables as server-drawn SVG charts (results/charts.py), each with its table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as Promise

from evidence.aggregates import SMALL, label
from results.charts import bar_chart, hbar_chart

TITLES: dict[str, Promise] = {
    "country": _("Reports by country"),
    "institution": _("Reports by institution"),
    "event": _("Reports by kind of event"),
    "month": _("Reports by month of the event"),
}


@dataclass(frozen=True)
class Row:
    label: str
    reported: int | None
    verified: int | None
    merged: bool  # the row of cells under the threshold


@dataclass(frozen=True)
class Section:
    dimension: str
    title: str
    chart: SafeString
    rows: list[Row]


def sections(data: dict[str, Any]) -> list[Section]:
    result = []
    for dimension, cells in data["tables"].items():
        rows = [
            Row(label(cell), cell["reported"], cell["verified"], cell["key"] == SMALL)
            for cell in cells
        ]
        # The chart draws only published named cells; the merged row is in the table.
        points = [(row.label, row.reported) for row in rows if not row.merged and row.reported]
        title = str(TITLES.get(dimension, dimension))
        draw = bar_chart if dimension == "month" else hbar_chart
        result.append(Section(dimension, title, draw(points, title=title), rows))
    return result

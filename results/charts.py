"""Charts drawn on the server as SVG: no script, no request to another host, and every chart
is shown next to its data table (or CSV), so it reads without JavaScript or without sight.

Only presentation attributes are used (no style attributes), which our CSP allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, PAD = 640, 220, 28
BAR = "#2a9d8f"
AXIS = "#57606a"


def bar_chart(points: Sequence[tuple[Any, int | float]], *, title: str) -> SafeString:
    """Vertical bars, one per point, labelled at the first, middle and last bar."""
    if not points:
        return SafeString("")
    top = max(float(v) for _k, v in points) or 1.0
    slot = (WIDTH - 2 * PAD) / len(points)
    bars = []
    for i, (_label, value) in enumerate(points):
        height = (HEIGHT - 2 * PAD) * float(value) / top
        bars.append(
            (
                f"{PAD + i * slot + slot * 0.1:.1f}",
                f"{HEIGHT - PAD - height:.1f}",
                f"{max(slot * 0.8, 1):.1f}",
                f"{height:.1f}",
                BAR,
                f"{_label}: {value}",
            )
        )
    labels = {0, len(points) // 2, len(points) - 1}
    ticks = [
        (f"{PAD + i * slot + slot / 2:.1f}", HEIGHT - 8, AXIS, str(points[i][0]))
        for i in sorted(labels)
    ]
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{title}</title>'
        '<line x1="{pad}" y1="{base}" x2="{end}" y2="{base}" stroke="{axis}"/>'
        "{bars}{ticks}"
        '<text x="{pad}" y="14" fill="{axis}" font-size="12">max {top}</text></svg>',
        w=WIDTH,
        h=HEIGHT,
        title=title,
        pad=PAD,
        base=HEIGHT - PAD,
        end=WIDTH - PAD,
        axis=AXIS,
        top=f"{top:g}",
        bars=format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
            bars,
        ),
        ticks=format_html_join(
            "",
            '<text x="{}" y="{}" fill="{}" font-size="11" text-anchor="middle">{}</text>',
            ticks,
        ),
    )


def hbar_chart(points: Sequence[tuple[Any, int | float]], *, title: str) -> SafeString:
    """Horizontal bars with their labels: for countries, organizations, institutions."""
    if not points:
        return SafeString("")
    top = max(float(v) for _k, v in points) or 1.0
    row = 22
    height = row * len(points) + 8
    label_w = 220
    rows = [
        (
            4,
            i * row + 16,
            AXIS,
            str(label)[:32],
            label_w,
            i * row + 4,
            f"{(WIDTH - label_w - 60) * float(value) / top:.1f}",
            BAR,
            label_w + (WIDTH - label_w - 60) * float(value) / top + 6,
            i * row + 16,
            value,
        )
        for i, (label, value) in enumerate(points)
    ]
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{title}</title>{rows}</svg>',
        w=WIDTH,
        h=height,
        title=title,
        rows=format_html_join(
            "",
            '<text x="{}" y="{}" fill="{}" font-size="12">{}</text>'
            '<rect x="{}" y="{}" width="{}" height="14" fill="{}"/>'
            '<text x="{}" y="{}" font-size="12">{}</text>',
            rows,
        ),
    )

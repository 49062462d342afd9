"""The link-preview image (``og:image``): a 1200×630 PNG drawn by us with Pillow.

It shows the title in the page's language, the confirmed count with a progress bar, and the
co-sponsors' names in alphabetical order (no lead). Never a signer: not even the names that
signers chose to show on the petition page.

Every input of the drawing goes into a digest that is part of the image's URL, so an URL always
names one image and can be cached for a year by browsers and link-preview services. The count is
rounded down to a bucket (1 % of the goal) before drawing: the image, and so its URL, changes only
when the count moved noticeably, not on every signature. The PNG itself is kept in the cache under
its digest and drawn again only when the digest changes (or the cache lost it).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import cache as memoize
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, ImageDraw, ImageFont

from campaigns import selectors
from campaigns.models import Campaign, Petition
from campaigns.services import MILESTONES
from members.models import Organization

WIDTH, HEIGHT = 1200, 630
KINDS = ("campaign", "petition")
# Bump when the drawing changes: every URL changes with it, so no cache serves the old look.
DRAWING_VERSION = 1
CACHE_SECONDS = 60 * 60 * 24 * 30
FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts"
MARGIN = 60
INK, MUTED, ACCENT, TRACK = "#1b1f24", "#57606a", "#0b6e4f", "#d8dee4"


@dataclass(frozen=True)
class Card:
    """Everything the image shows, and nothing else (the digest is taken over it)."""

    kind: str
    pk: int
    language: str
    brand: str
    title: str
    count: int | None  # None: a campaign without petitions shows no count
    goal: int
    count_text: str
    cosponsors_text: str
    version: int = DRAWING_VERSION

    @property
    def digest(self) -> str:
        payload = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()[:20]


def bucket(count: int, goal: int) -> int:
    """The count rounded down to 1 % of the goal (at least 1), or to the last milestone passed
    (100, 1,000...) if that is higher: what the image shows. A milestone shows at once even when
    1 % of a large goal is more than it."""
    step = max(1, goal // 100)
    passed = [m for m in MILESTONES if m <= count]
    return max(0, count - count % step, *passed)


def _number(value: int, language: str) -> str:
    grouped = f"{value:,}"
    return grouped.replace(",", "\u202f") if language == "ru" else grouped


def card_for(
    obj: Campaign | Petition, *, language: str, cosponsors: Iterable[Organization] | None = None
) -> Card:
    """The card of a public campaign or petition in ``language`` (activated here).

    ``cosponsors``: the campaign's accepted co-sponsors when the caller has them already."""
    with translation.override(language):
        if isinstance(obj, Petition):
            campaign = obj.campaign
            kind, title = "petition", obj.title
            count: int | None = obj.confirmed_count
            goal = obj.goal
        else:
            campaign, kind, title = obj, "campaign", obj.title
            totals = obj.petitions.aggregate(count=Sum("confirmed_count"), goal=Sum("goal"))
            count, goal = totals["count"], totals["goal"] or 0
        count_text = ""
        if count is not None:
            count = bucket(count, goal)
            count_text = ngettext(
                "%(count)s signature of %(goal)s",
                "%(count)s signatures of %(goal)s",
                count,
            ) % {"count": _number(count, language), "goal": _number(goal, language)}
        if cosponsors is None:
            cosponsors = selectors.campaign_cosponsors(campaign=campaign)
        names = sorted((o.name for o in cosponsors), key=str.casefold)
        cosponsors_text = (
            _("Co-sponsored by: %(names)s") % {"names": ", ".join(names)} if names else ""
        )
        return Card(
            kind=kind,
            pk=obj.pk,
            language=language,
            brand=_("Coalition"),
            title=title,
            count=count,
            goal=goal,
            count_text=count_text,
            cosponsors_text=cosponsors_text,
        )


def image_path(obj: Campaign | Petition, card: Card) -> str:
    return reverse(
        "campaigns:og_image",
        kwargs={"kind": card.kind, "slug": obj.slug, "lang": card.language, "digest": card.digest},
    )


@memoize
def _font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), size)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int, lines: int
) -> list[str]:
    """Greedy word wrap to ``width`` pixels, at most ``lines`` lines, the last one ellipsized."""
    out: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            current = candidate
            continue
        if current:
            out.append(current)
        current = word
        while draw.textlength(current, font=font) > width:  # one word longer than a line
            cut = len(current) - 1
            while cut > 1 and draw.textlength(current[:cut], font=font) > width:
                cut -= 1
            out.append(current[:cut])
            current = current[cut:]
    if current:
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        last = out[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        out[-1] = last.rstrip() + "…"
    return out


def render(card: Card) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    draw.rectangle((0, 0, WIDTH, 14), fill=ACCENT)
    draw.text((MARGIN, 44), card.brand, font=_font(30, bold=True), fill=ACCENT)
    y = 110
    title_font = _font(58, bold=True)
    for line in _wrap(draw, card.title, title_font, inner, 3):
        draw.text((MARGIN, y), line, font=title_font, fill=INK)
        y += 70
    if card.count is not None:
        y = max(y + 20, 330)
        draw.text((MARGIN, y), card.count_text, font=_font(40, bold=True), fill=INK)
        y += 64
        draw.rounded_rectangle((MARGIN, y, MARGIN + inner, y + 30), radius=15, fill=TRACK)
        share = min(1.0, card.count / card.goal) if card.goal else 0.0
        if share > 0:
            filled = max(30, round(inner * share))
            draw.rounded_rectangle((MARGIN, y, MARGIN + filled, y + 30), radius=15, fill=ACCENT)
    names_font = _font(28)
    names = _wrap(draw, card.cosponsors_text, names_font, inner, 2)
    y = HEIGHT - 50 - 38 * len(names)
    for line in names:
        draw.text((MARGIN, y), line, font=names_font, fill=MUTED)
        y += 38
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def png_for(card: Card) -> bytes:
    """The PNG of this card: from the cache, or drawn once and kept under its digest."""
    key = f"og-image:{card.kind}:{card.pk}:{card.language}:{card.digest}"
    png: bytes | None = cache.get(key)
    if png is None:
        png = render(card)
        cache.set(key, png, CACHE_SECONDS)
    return png

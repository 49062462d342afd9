"""Link-preview image (og:image) regeneration time, as a ratio to a floor measured in the same run.

    .venv/bin/python bench/og_image.py [--repeat 40]

The floor is the least any 1200x630 PNG card costs with Pillow: a blank image, one line of text
in the same bundled font, PNG-encoded. The measured drawing is ``campaigns.og_image.render`` of a
worst-case card: a Russian title long enough to wrap and be cut at three lines, a count and its
progress bar, and six co-sponsors' names on two lines. Both are timed ``--repeat`` times after a
warm-up (fonts loaded, as in a running worker); the median wall and CPU (process) times are
printed, and the ratio render / floor. The two database reads of ``card_for`` (the co-sponsors,
and for a campaign the sum of its petitions' counts) are not included: they are the same two
indexed reads as the campaign page's, and the image is drawn only when its digest changes
(a bucket of 1 % of the goal), then served from the cache.

Nothing is written anywhere; no database, no network.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")  # no secrets needed: nothing is served or stored

import django  # noqa: E402

django.setup()

from PIL import Image, ImageDraw  # noqa: E402

from campaigns import og_image  # noqa: E402


def floor() -> bytes:
    image = Image.new("RGB", (og_image.WIDTH, og_image.HEIGHT), "#ffffff")
    ImageDraw.Draw(image).text(
        (60, 60), "Коалиция", font=og_image._font(58, bold=True), fill="#000"
    )
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


CARD = og_image.Card(
    kind="campaign",
    pk=1,
    language="ru",
    brand="Коалиция",
    title=(
        "Банковские счета для всех эмигрантов, законно проживающих в Европейском союзе, "
        "без отказов по паспорту и без дополнительных проверок"
    ),
    count=12_300,
    goal=100_000,
    count_text="12 300 подписей из 100 000",
    cosponsors_text=(
        "Соорганизаторы: Альфа Помощь, Бета Мост, Гамма Группа, Дельта Права, "
        "Эпсилон Солидарность, Дзета Правозащитный центр"
    ),
)


def timed(fn: Callable[[], bytes], repeat: int) -> tuple[float, float, int]:
    fn()  # warm-up: fonts loaded, code paths hot
    walls, cpus = [], []
    size = 0
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        size = len(fn())
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40, help="timed runs of each (median)")
    args = parser.parse_args()
    floor_wall, floor_cpu, floor_size = timed(floor, args.repeat)
    card_wall, card_cpu, card_size = timed(lambda: og_image.render(CARD), args.repeat)
    print(f"runs each: {args.repeat} (median), Pillow {Image.__version__}")
    print(
        f"floor  (blank 1200x630 + one line, PNG): wall {floor_wall * 1000:7.1f} ms, "
        f"CPU {floor_cpu * 1000:7.1f} ms, {floor_size / 1024:6.1f} KiB"
    )
    print(
        f"og:image regeneration (render):        wall {card_wall * 1000:7.1f} ms, "
        f"CPU {card_cpu * 1000:7.1f} ms, {card_size / 1024:6.1f} KiB"
    )
    print(
        f"ratio render / floor: wall {card_wall / floor_wall:.2f}x, CPU {card_cpu / floor_cpu:.2f}x"
    )


if __name__ == "__main__":
    main()

"""The Russian catalogue is complete, compiled from the current .po, and actually served."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.test import Client

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale" / "ru" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"
MSGFMT = shutil.which("msgfmt")
needs_msgfmt = pytest.mark.skipif(MSGFMT is None, reason="GNU gettext (msgfmt) is not installed")

# The Russian for the home page's headline; if someone changes either, this test should say so.
HOME_HEADLINE_RU = "Организации в эмиграции — вместе и на равных"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def _po_entries() -> list[dict[str, object]]:
    """A small PO reader (polib is not a dependency): msgid, msgid_plural, msgstr[n], flags."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] = {}
    key = ""
    for line in [*PO_FILE.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if "msgid" in entry:
                entries.append(entry)
            entry, key = {}, ""
        elif line.startswith("#,"):
            entry["flags"] = {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] = str(entry[key]) + ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


def _translatable(entries: list[dict[str, object]]) -> list[dict[str, object]]:
    return [entry for entry in entries if entry["msgid"]]  # the empty msgid is the header


def test_catalogue_has_messages() -> None:
    assert len(_translatable(_po_entries())) > 100


def test_no_message_is_untranslated_or_fuzzy() -> None:
    problems = []
    for entry in _translatable(_po_entries()):
        strings = [value for key, value in entry.items() if key.startswith("msgstr")]
        if "fuzzy" in entry.get("flags", set()) or not all(strings):
            problems.append(entry["msgid"])
    assert problems == []


def test_plural_messages_fill_all_four_russian_forms() -> None:
    plurals = [entry for entry in _translatable(_po_entries()) if "msgid_plural" in entry]
    assert plurals, "the catalogue should contain plural messages"
    for entry in plurals:
        forms = sorted(key for key in entry if key.startswith("msgstr["))
        assert forms == [f"msgstr[{n}]" for n in range(4)], entry["msgid"]


def test_translations_keep_every_placeholder() -> None:
    for entry in _translatable(_po_entries()):
        sources = {
            frozenset(PLACEHOLDER.findall(str(entry[key])))
            for key in ("msgid", "msgid_plural")
            if key in entry
        }
        for key, value in entry.items():
            if key.startswith("msgstr"):
                assert frozenset(PLACEHOLDER.findall(str(value))) in sources, entry["msgid"]


def test_header_declares_russian_plural_rules_and_utf8() -> None:
    header = str(_po_entries()[0]["msgstr"])
    assert "Language: ru\n" in header
    assert "Content-Type: text/plain; charset=UTF-8\n" in header
    assert "Plural-Forms: nplurals=4; plural=(n%10==1 && n%100!=11 ? 0 :" in header


@needs_msgfmt
def test_msgfmt_reports_no_untranslated_or_fuzzy_messages() -> None:
    result = subprocess.run(  # noqa: S603 -- fixed arguments, no shell
        [str(MSGFMT), "--check", "--statistics", "-o", "/dev/null", str(PO_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # e.g. "290 translated messages." -- GNU gettext adds ", N fuzzy translations" and
    # ", N untranslated messages" only when there are some.
    statistics = result.stderr.strip()
    assert re.fullmatch(r"\d+ translated messages?\.", statistics), statistics


@needs_msgfmt
def test_compiled_catalogue_matches_the_po_file(tmp_path: Path) -> None:
    compiled = tmp_path / "django.mo"
    subprocess.run(  # noqa: S603 -- fixed arguments, no shell
        [str(MSGFMT), "-o", str(compiled), str(PO_FILE)], check=True, capture_output=True
    )
    assert MO_FILE.exists(), "run `make messages` to compile the catalogue"
    assert compiled.read_bytes() == MO_FILE.read_bytes(), "django.mo is stale: run `make messages`"


@pytest.mark.django_db
def test_pages_are_served_in_russian_when_the_language_cookie_asks(
    client: Client, settings: LazySettings, members: list[object]
) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    home = client.get("/").content.decode()
    directory = client.get("/members/").content.decode()

    assert '<html lang="ru">' in home
    assert HOME_HEADLINE_RU in home
    # Four members: Russian needs the "few" plural form here, not the English singular/plural.
    assert "В коалиции 4 организации-участницы." in home
    assert '<html lang="ru">' in directory
    assert "<h1>Организации-участницы</h1>" in directory
    assert "Exiled organizations, working together as equals" not in home

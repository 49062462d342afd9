"""Fuzzing the query parameters of every public page: no query string answers 5xx.

`/campaigns/?issue_area=%00` answered 500 (PostgreSQL refuses text containing NUL). The pages
are taken from the permission table (tests/test_permissions.py): every route an anonymous visitor
or a signer holding her links gets a 200 from, so a new public page is fuzzed without anyone
remembering to add it here. The parameter names are every name the code reads from request.GET
(found in the source), plus names nobody reads; the values are hostile: NUL, huge and negative
numbers, exotic Unicode, invalid UTF-8, empty, very long, and repeated keys.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.fuzz.test_fuzz_signing import FUZZ, examples
from tests.test_permissions import TABLE, World, actor_for

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "coalition",
    "members",
    "campaigns",
    "outreach",
    "results",
    "privacy",
    "api",
    "outbox",
    "agenda",
    "evidence",
)
_READS = re.compile(
    r"""GET\.(?:get|getlist)\(\s*["']([^"']+)["']|query_int\(\s*request,\s*["']([^"']+)["']"""
)


def _names_read_from_the_query() -> list[str]:
    names: set[str] = set()
    for app in APPS:
        for source in (ROOT / app).rglob("*.py"):
            for match in _READS.finditer(source.read_text(encoding="utf-8")):
                names.add(match.group(1) or match.group(2))
    return sorted(names)


READ_NAMES = _names_read_from_the_query()
OTHER_NAMES = st.sampled_from(["", "\x00", "page[]", "a" * 300, "__proto__", "q\x00", "ключ"])
_TEXT = st.characters(exclude_categories=("Cs",))  # lone surrogates cannot be sent as UTF-8
VALUES = st.one_of(
    st.sampled_from(["\x00", "a\x00b", "en\x00", "%00"]),
    st.sampled_from(["", "-1", "0", "1e309", "NaN", "9" * 400, str(2**64), "٣", "１２", "\u202e"]),
    st.sampled_from(["../..", "[]", "{}", "true", "en", "ru", "live", "closed"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(_TEXT, max_size=40),
    st.text(_TEXT, min_size=2000, max_size=3000),
)
RAW_BYTES = st.binary(max_size=12)  # percent-encoded, invalid UTF-8 included


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    # Several of the names the code reads at once (filters combine), sometimes one it does not.
    names = draw(st.lists(st.sampled_from(READ_NAMES), min_size=1, max_size=6, unique=True))
    names += draw(st.lists(OTHER_NAMES, max_size=1))
    pairs = []
    for name in names:
        # Repeating a key gives the view a list where it expects one value.
        for _ in range(draw(st.integers(min_value=1, max_value=2))):
            if draw(st.integers(min_value=0, max_value=9)) == 0:
                value = quote_from_bytes(draw(RAW_BYTES), safe="")
            else:
                value = quote(draw(VALUES), safe="")
            pairs.append(f"{quote(name, safe='')}={value}")
    return "&".join(pairs)


def _public_pages() -> list[tuple[str, str]]:
    """(route, role) for every row an anonymous visitor or a signer GETs with a 200."""
    pages = []
    for row in TABLE:
        expected = row.expected("GET")
        for role in ("anonymous", "signer"):
            if expected[role] == "200" and (row.route, role) not in pages:
                pages.append((row.route, role))
                break
    return pages


PAGES = _public_pages()


def test_the_pages_cover_every_public_page_and_the_names_every_read():
    routes = {route for route, _ in PAGES}
    expected = {"home", "campaigns:list", "campaigns:campaign", "campaigns:petition",
                "campaigns:embed", "campaigns:confirm", "members:directory", "members:decisions",
                "results:results", "privacy:privacy", "privacy:erase", "api:petitions"}  # fmt: skip
    assert expected <= routes, expected - routes
    assert {"issue_area", "status", "language", "page", "page_size", "q", "source"} <= set(
        READ_NAMES
    )


@pytest.mark.parametrize(("route", "role"), PAGES, ids=[f"{r}-{a}" for r, a in PAGES])
def test_no_query_string_makes_a_public_page_fail(world: World, route: str, role: str):
    actor = actor_for(world, role)
    row = next(row for row in TABLE if row.route == route and not row.variant)
    path = reverse(route, kwargs=row.kwargs(world, actor))

    @hypothesis_settings(FUZZ, max_examples=examples(15))
    @given(query=query_strings())
    def run(query: str) -> None:
        for backend in caches.all():  # a rate limit's 429 must not hide what comes after it
            backend.clear()
        response = Client().get(f"{path}?{query}")
        assert response.status_code < 500, (path, query, response.status_code)

    run()


# --- regressions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/campaigns/?issue_area=%00",
        "/campaigns/?status=live&issue_area=a%00b",
        "/decisions/?kind=%00",
        "/results/?q=%00",
        "/members/?%00=1",
        "/signatures/confirm/abc%00def/",
    ],
)
def test_a_nul_character_in_the_address_answers_400(client, live, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_character_in_the_api_answers_a_problem(client):
    response = client.get("/api/v1/petitions?page=%00")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400


def test_a_nul_character_in_a_posted_form_answers_400_and_saves_nothing(client, live):
    from campaigns.models import Signature

    response = client.post(
        reverse("campaigns:petition", args=[live.petition.slug]),
        {"name": "Olga\x00", "email": "olga@example.org", "source": "\x00"},
    )
    assert response.status_code == 400
    assert not Signature.objects.exists()

"""Every page, in English and Russian: axe-core finds nothing at desktop (1280 px) and phone
(390 px) widths, nothing scrolls sideways at 320 px (WCAG 1.4.10 reflow), and a petition can be
signed with the keyboard alone.

The pages are tests/pages.py's (the permission table's world, plus allauth's pages): a new route
is checked here as soon as it has its row in tests/test_permissions.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from campaigns.models import Signature
from tests.campaigns.conftest import LiveCampaign
from tests.e2e.axe import axe_violations, require_axe
from tests.pages import client_for, pages
from tests.test_permissions import World, actor_for
from tests.test_permissions import world as world  # the fixture, shared

LANGUAGES = ("en", "ru")
AXE_WIDTHS = (1280, 390)
REFLOW_WIDTH = 320
HEIGHT = 900
# What sticks out of the viewport (outside boxes that scroll by themselves): for the message.
_WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.body.querySelectorAll("*"))
    .filter((el) => el.getBoundingClientRect().right > width + 0.5)
    .slice(-3).map((el) => el.tagName.toLowerCase() + "." + el.className + " "
      + Math.round(el.getBoundingClientRect().right) + "px: "
      + (el.textContent || "").trim().slice(0, 40));
}"""


@dataclass(frozen=True)
class Visit:
    label: str
    role: str
    url: str
    status: int


# Data migrations whose rows the pages need. The live server's tests flush the database after
# them, and serialized_rollback cannot put the rows back here: once Playwright runs its event
# loop in this thread, Django's connection object is another one, without the serialized copy.
SEEDING_MIGRATIONS = (
    "campaigns.migrations.0002_issue_areas",
    "evidence.migrations.0002_default_terms",
)


@pytest.fixture
def seeded(transactional_db: None) -> None:
    """The data migrations' rows, as a fresh database has them (each seed is idempotent)."""
    for module in SEEDING_MIGRATIONS:
        import_module(module).seed(django_apps, None)


@pytest.fixture
def html_pages(seeded: None, world: World) -> Iterator[tuple[list[Visit], dict[str, Client]]]:
    """The HTML pages of the world (CSV exports, images and JSON left out), each with its URL
    fixed once, and a signed-in client per role whose session the browser borrows."""
    clients: dict[str, Client] = {}
    visits = []
    for page in pages():
        if page.role not in clients:
            clients[page.role] = client_for(world, page.role)  # once: a TOTP code works once
        client = clients[page.role]
        url = page.url(world, actor_for(world, page.role))
        response = client.get(url)
        assert response.status_code == page.status, f"{page.label}: {response.status_code}"
        # The browser visits pages that answer 200 (an error status is a console error there);
        # tests/test_russian_pages.py reads the error pages too.
        if page.status == 200 and "text/html" in response.get("Content-Type", ""):
            visits.append(Visit(page.label, page.role, url, page.status))
    yield visits, clients


def _open(
    new_page: Callable[..., Page],
    live_server: LiveServer,
    client: Client,
    language: str,
    width: int,
    **options: object,
) -> Page:
    page = new_page(viewport={"width": width, "height": HEIGHT}, **options)
    cookies = [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    session = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if session is not None:
        cookies.append(
            {"name": settings.SESSION_COOKIE_NAME, "value": session.value, "url": live_server.url}
        )
    page.context.add_cookies(cookies)  # type: ignore[arg-type]
    return page


def _by_role(visits: list[Visit]) -> dict[str, list[Visit]]:
    grouped: dict[str, list[Visit]] = {}
    for visit in visits:
        grouped.setdefault(visit.role, []).append(visit)
    return grouped


def _goto(page: Page, visit: Visit, language: str) -> None:
    response = page.goto(visit.url)
    assert response is not None
    assert response.status == visit.status, f"{visit.label} {visit.url}: {response.status}"
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe_at_desktop_and_phone_widths(
    html_pages: tuple[list[Visit], dict[str, Client]],
    new_page: Callable[..., Page],
    live_server: LiveServer,
    language: str,
) -> None:
    require_axe()
    visits, clients = html_pages
    failures: dict[str, list[dict[str, object]]] = {}
    for role, role_visits in _by_role(visits).items():
        page = _open(new_page, live_server, clients[role], language, AXE_WIDTHS[0], bypass_csp=True)
        for visit in role_visits:
            _goto(page, visit, language)
            for width in AXE_WIDTHS:
                page.set_viewport_size({"width": width, "height": HEIGHT})
                violations = axe_violations(page)
                if violations:
                    failures[f"{visit.label} as {role} at {width}px {visit.url}"] = violations
    assert len(visits) > 40, "the page list lost most of its pages"
    assert not failures, "axe violations:\n" + "\n".join(
        f"{where}: {violations}" for where, violations in failures.items()
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_page_scrolls_sideways_at_320_px(
    html_pages: tuple[list[Visit], dict[str, Client]],
    new_page: Callable[..., Page],
    live_server: LiveServer,
    language: str,
) -> None:
    """Under the real Content-Security-Policy (the new_page fixture fails on any violation)."""
    visits, clients = html_pages
    too_wide: dict[str, tuple[int, list[str]]] = {}
    header_rows: dict[str, int] = {}
    for role, role_visits in _by_role(visits).items():
        page = _open(new_page, live_server, clients[role], language, REFLOW_WIDTH)
        for visit in role_visits:
            _goto(page, visit, language)
            scroll, client = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if scroll > client:
                too_wide[f"{visit.label} as {role} {visit.url}"] = (scroll, page.evaluate(_WIDEST))
            # The header stays one row: logo and menu button side by side (the embedded sign
            # form has no header).
            if page.locator(".header-row").count():
                height = page.locator(".header-row").bounding_box()
                assert height is not None
                if height["height"] > 80:
                    header_rows[visit.label] = int(height["height"])
    assert not too_wide, (
        f"pages wider than {REFLOW_WIDTH} px (scrollWidth, what sticks out): {too_wide}"
    )
    assert not header_rows, f"the header wraps: {header_rows}"


@pytest.mark.parametrize("width", [1376, 1344, 1280, 390, 320])
def test_russian_header_is_one_row_when_signed_in(
    new_page: Callable[..., Page], live_server: LiveServer, live: LiveCampaign, width: int
) -> None:
    """The longest header there is: Russian, signed in (ten links and the language button),
    at the widths on either side of where the links fold into the menu (site.css, 86rem)."""
    client = Client()
    client.force_login(live.admins[0])
    page = _open(new_page, live_server, client, "ru", width)
    page.goto("/")
    row = page.locator(".header-row").bounding_box()
    assert row is not None
    assert row["height"] < 80, row
    scroll, client_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client_width
    wide = width >= 1376
    expect(page.get_by_role("button", name="Выйти")).to_have_count(1 if wide else 0)
    if not wide:
        # The links are behind the menu button, which works without JavaScript.
        page.get_by_text("Меню", exact=True).click()
        expect(page.get_by_role("link", name="Мои организации")).to_be_visible()
        expect(page.get_by_role("button", name="Выйти")).to_be_visible()


def _focused(page: Page) -> str:
    description: str = page.evaluate(
        "() => { const e = document.activeElement; return e.tagName.toLowerCase()"
        " + '#' + (e.id || '') + '|' + (e.textContent || '').trim(); }"
    )
    return description


def _tab_to(page: Page, pattern: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if re.search(pattern, _focused(page)):
            return
    raise AssertionError(f"Tab never reached {pattern}; last focus: {_focused(page)}")


def test_a_petition_is_signed_with_the_keyboard_alone(
    new_page: Callable[..., Page], live_server: LiveServer, live: LiveCampaign
) -> None:
    """Tab, Space, Enter and typing: no mouse, no click()."""
    page = _open(new_page, live_server, Client(), "en", 390)
    page.set_default_timeout(10_000)
    page.goto(live.petition.get_absolute_url())

    page.keyboard.press("Tab")
    assert _focused(page).startswith("a#|Skip to content"), _focused(page)
    _tab_to(page, r"^input#id_name\|")
    page.keyboard.type("Keyboard Person")
    page.keyboard.press("Tab")
    assert _focused(page).startswith("input#id_email|")
    page.keyboard.type("keyboard.person@example.org")
    page.keyboard.press("Tab")
    assert _focused(page).startswith("select#id_country|")
    page.keyboard.type("Germany")  # a focused <select> selects by typing
    expect(page.locator("#id_country")).to_have_value("DE")
    _tab_to(page, r"^input#id_display_\d\|")
    page.keyboard.press("ArrowDown")  # radios: arrows move within the group
    expect(page.locator("#id_display_1")).to_be_checked()
    _tab_to(page, r"^input#id_updates\|")
    page.keyboard.press("Space")
    expect(page.locator("#id_updates")).to_be_checked()
    # The proof of work started when the form got focus; wait for its answer before sending.
    solution = page.locator("form.sign-form input[name='altcha']")
    deadline = time.monotonic() + 30
    while not (solution.count() == 1 and solution.input_value()):
        assert time.monotonic() < deadline, "the proof of work did not finish"
        time.sleep(0.2)
    _tab_to(page, r"^button#\|Sign the petition$")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/petitions/{live.petition.slug}/sent/$"))
    signature = Signature.objects.get(petition=live.petition)
    assert (signature.name, signature.country) == ("Keyboard Person", "DE")
    assert signature.display == Signature.Display.FIRST_NAME_INITIAL
    assert signature.wants_updates

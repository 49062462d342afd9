"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

Every page records the requests it makes and the errors its console reports; when the test ends
both are checked, so any test in this folder also proves that nothing was loaded from another
host and that the Content-Security-Policy blocked nothing we ship.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright
from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
# `playwright install` cannot download browsers here, so we drive the system chromium and keep
# it from phoning home (updates, sync, QUIC probes) so the request log below stays meaningful.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Schemes that never reach the network.
LOCAL_SCHEMES = {"data", "blob", "about"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("COALITION_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class BrowserLog:
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def on_console(self, message: ConsoleMessage) -> None:
        # CSP violations are reported here as errors ("Refused to load ...").
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error: Exception) -> None:
        self.console_errors.append(f"uncaught: {error}")

    def remote_requests(self) -> list[str]:
        remote = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if parts.hostname not in LOCAL_HOSTS:
                remote.append(url)
        return remote


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def new_page(
    browser: Browser, live_server: LiveServer, browser_log: BrowserLog, django_db_blocker: Any
) -> Iterator[Callable[..., Page]]:
    """Open a page in a fresh browser context; keyword arguments go to ``new_context``."""
    # Issue areas and the case reports' default lists, as a deployed database has them: the
    # flush that ends every transactional test (these included) empties data migrations' rows.
    from evidence.services import terms_ensure

    with django_db_blocker.unblock():
        terms_ensure()
    contexts = []

    def open_page(**context_options: Any) -> Page:
        # A desktop wide enough for the header's links (below 86rem they fold into the menu,
        # which tests/e2e/test_accessibility.py covers at its own widths).
        context_options.setdefault("viewport", {"width": 1440, "height": 900})
        context = browser.new_context(base_url=live_server.url, **context_options)
        contexts.append(context)
        # On the context, not the page, so pop-ups and workers are recorded too.
        context.on("request", browser_log.on_request)
        context.on("console", browser_log.on_console)
        context.on("weberror", lambda web_error: browser_log.on_page_error(web_error.error))
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
    assert browser_log.requests, "the browser made no requests at all: the log is not wired up"
    assert browser_log.remote_requests() == [], "requests left the machine"
    assert browser_log.console_errors == [], "console errors or CSP violations"


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()

from __future__ import annotations

import os
from collections.abc import Iterator
from importlib import import_module
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import hypothesis
import pytest
from django.conf import LazySettings
from django.core.cache import caches
from django.utils import translation

from tests.campaigns.conftest import issue_area, live  # noqa: F401 - shared across folders
from tests.factories import MemberOrganizationFactory, UserFactory, make_admin
from tests.once import ONCE_PER_MODULE, UNIT_TEST_SETTINGS
from tests.outreach.conftest import confirmed, contacts, letters  # noqa: F401

# Modules that import the permission table's `world` find the scenario it is copied from here.
from tests.test_permissions import world_built_once  # noqa: F401

# Fuzzing budgets (tests/fuzz/): every run tries the same examples, a budget sized for CI; the
# "nightly" profile (`make test-nightly`) tries ten times as many, new ones each run.
hypothesis.settings.register_profile("nightly", derandomize=False, print_blob=True)

# pyproject.toml sets COALITION_TESTING for pytest-django, which has loaded the settings by now.
# Processes a test starts (gunicorn in production mode, `manage.py check --deploy`) must not
# inherit it; those that want the test mode (the integration tests' worker) set it themselves.
os.environ.pop("COALITION_TESTING", None)

# Playwright's sync API runs an event loop in the test thread; Django's ORM guard would refuse
# every query made from it although nothing runs concurrently.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_setupnodes(config: pytest.Config, specs: list[Any]) -> None:
    """pytest-xdist (`make pytest` runs ``-n 2``): each worker process gets a Redis database of its
    own, as pytest-django gives it a test database of its own (``_gw0``, ``_gw1``): tests clear
    the whole cache database (``_embedded_tasks``) and the integration tests' workers read the
    broker queues in it. Worker ``gwN`` uses REDIS_URL's database minus N (15, 14, ... for the
    default /15), set in its environment before it loads the settings."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return  # embedded mode: a local-memory cache per process
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    for index, spec in enumerate(specs):
        if base - index < 0:
            raise pytest.UsageError(
                f"REDIS_URL names database {base}: {len(specs)} workers need the {len(specs)} "
                f"databases {base} and below it (e.g. /15 for -n {len(specs)})"
            )
        spec.env["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{base - index}"))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a module with a scenario built once (tests/once.py), the tests that do not use it run
    first: its transaction stays open from its first test to the module's end."""

    def uses_a_shared_scenario(item: pytest.Item) -> bool:
        return not ONCE_PER_MODULE.isdisjoint(getattr(item, "fixturenames", ()))

    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)
    items[:] = [
        item
        for module in modules.values()
        for item in sorted(module, key=uses_a_shared_scenario)  # stable: file order otherwise
    ]


@pytest.fixture(autouse=True)
def _embedded_tasks(settings: LazySettings, request: pytest.FixtureRequest) -> Iterator[None]:
    """Unit tests run tasks in-process; integration tests use the real worker instead."""
    unit_test = request.node.get_closest_marker("integration") is None
    for name, value in UNIT_TEST_SETTINGS.items():
        if unit_test or name != "CELERY_TASK_ALWAYS_EAGER":
            setattr(settings, name, value)
    if unit_test:
        # Rate-limit counters and cached fragments must not leak from one test into the next.
        for backend in caches.all():
            backend.clear()
        from foundation.ratelimit import day_keys_forget

        day_keys_forget()  # the day's salt went with the cache
    # A request in Russian leaves Russian active in the thread; each test starts in English.
    translation.activate("en")
    yield


# Data migrations whose rows every test may rely on (issue areas, the case reports' default
# lists). A transactional test (a live server, a race between threads) ends with a flush that
# empties every table, these rows too; they are put back after it, so the rest of the run sees
# the database a deployment has.
SEEDING_MIGRATIONS = (
    "campaigns.migrations.0002_issue_areas",
    "evidence.migrations.0002_default_terms",
)


@pytest.fixture(autouse=True)
def _seed_rows_survive_flushes(
    request: pytest.FixtureRequest, django_db_blocker: Any
) -> Iterator[None]:
    yield  # torn down after pytest-django's flush (autouse fixtures are set up first)
    marker = request.node.get_closest_marker("django_db")
    flushed = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if flushed:
        from django.apps import apps

        with django_db_blocker.unblock():
            for module in SEEDING_MIGRATIONS:
                import_module(module).seed(apps, None)


@pytest.fixture(autouse=True)
def _nojs_token_waived(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Most tests post the sign form at once and without the aged token a page would carry
    (foundation/nojs.py); the token is waived for them, its budget still counts. Tests of the
    token itself, and the browser tests without JavaScript, are marked ``nojs_cost``."""
    if request.node.get_closest_marker("nojs_cost") is None:
        from foundation.nojs import NoJsCostMixin

        monkeypatch.setattr(NoJsCostMixin, "nojs_token_check", lambda self: True)


@pytest.fixture
def user(db: None) -> object:
    return UserFactory()


@pytest.fixture
def members(db: None) -> list[object]:
    """Four member organizations, each with one admin who has two-factor sign-in set up."""
    organizations = MemberOrganizationFactory.create_batch(4)
    for organization in organizations:
        make_admin(organization)
    return organizations

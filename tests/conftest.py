from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import LazySettings
from django.core.cache import caches
from django.utils import translation

from tests.campaigns.conftest import issue_area, live  # noqa: F401 - shared across folders
from tests.factories import MemberOrganizationFactory, UserFactory, make_admin
from tests.outreach.conftest import confirmed, contacts, letters  # noqa: F401

# pyproject.toml sets COALITION_TESTING for pytest-django, which has loaded the settings by now.
# Processes a test starts (gunicorn in production mode, `manage.py check --deploy`) must not
# inherit it; those that want the test mode (the integration tests' worker) set it themselves.
os.environ.pop("COALITION_TESTING", None)

# Playwright's sync API runs an event loop in the test thread; Django's ORM guard would refuse
# every query made from it although nothing runs concurrently.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _embedded_tasks(settings: LazySettings, request: pytest.FixtureRequest) -> Iterator[None]:
    """Unit tests run tasks in-process; integration tests use the real worker instead."""
    if request.node.get_closest_marker("integration") is None:
        settings.CELERY_TASK_ALWAYS_EAGER = True
        # Rate-limit counters and cached fragments must not leak from one test into the next.
        for backend in caches.all():
            backend.clear()
    settings.SITE_URL = "http://testserver"
    # A request in Russian leaves Russian active in the thread; each test starts in English.
    translation.activate("en")
    # Real hashing costs ~0.3 s per user; the hasher is Django's concern, not ours.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield


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

"""Scenarios built once per test module instead of once per test.

A large scenario (the permission table's ``world``: ~25 service calls) is built in a transaction
that stays open until the module's last test and is then rolled back. Each test still runs in its
own savepoint (pytest-django's ``db``), so whatever a test writes is gone before the next one, and
a test's "the database is unchanged" check compares the scenario plus the request, as before. The
same semantics as Django's ``TestCase.setUpTestData``, across a pytest module.

Rules for a scenario built this way:
- its fixture name is listed in ONCE_PER_MODULE: tests/conftest.py then runs the module's tests
  that do not use it first, so none of them sees its rows;
- tests get a deep copy of the Python objects (``copy.deepcopy``), as ``setUpTestData`` does, so a
  test that refreshes or changes an instance leaves the next test the original;
- it is built under the settings every unit test has (tests/conftest.py, ``_embedded_tasks``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import caches
from django.db import transaction
from django.test import override_settings
from django.utils import translation
from pytest_django import DjangoDbBlocker

# Names of the module-scoped fixtures built with ``built_once``.
ONCE_PER_MODULE = frozenset({"world_built_once"})

# What the autouse fixture in tests/conftest.py gives every unit test (it is function-scoped, so a
# module-scoped fixture is built before it runs and has to ask for the same itself).
UNIT_TEST_SETTINGS = {
    "CELERY_TASK_ALWAYS_EAGER": True,
    "SITE_URL": "http://testserver",
    # Real hashing costs ~0.3 s per user; the hasher is Django's concern, not ours.
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    # Every test client builds the middleware anew, and WhiteNoise with the finders on (test
    # mode) would list and stat every static file of every app each time: ~0.1 s per test.
    # With autorefresh it looks up only the file a request asks for, as in development.
    "WHITENOISE_AUTOREFRESH": True,
}


def _transactional(item: pytest.Item) -> bool:
    """Does this test commit (a browser's live server reads the rows from another connection)?"""
    names = getattr(item, "fixturenames", ())
    if "live_server" in names or "transactional_db" in names:
        return True
    marker = item.get_closest_marker("django_db")
    return marker is not None and bool(marker.kwargs.get("transaction", marker.args[:1] == (True,)))


def built_once[T](
    request: pytest.FixtureRequest, django_db_blocker: DjangoDbBlocker, build: Callable[[], T]
) -> Iterator[T | None]:
    """Yield ``build()``'s result, built in a transaction rolled back when the fixture ends.

    For a module-scoped fixture: ``yield from built_once(request, django_db_blocker, make)``.
    Yields None instead in a module where a test using it commits (a browser test): there no
    transaction may stay open, and the per-test fixture builds the scenario for each test.
    """
    fixture = request.fixturename
    module = request.node.nodeid
    if any(
        _transactional(item)
        for item in request.session.items
        if item.nodeid.split("::")[0] == module and fixture in getattr(item, "fixturenames", ())
    ):
        yield None
        return
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(**UNIT_TEST_SETTINGS), translation.override("en"):
                for backend in caches.all():
                    backend.clear()
                scenario = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(*sys.exc_info())
            raise
    try:
        yield scenario
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)

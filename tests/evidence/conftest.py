from __future__ import annotations

from importlib import import_module

import pytest

# The live campaign and the outreach fixtures the summary tests attach evidence to.
from tests.campaigns.conftest import issue_area, live  # noqa: F401
from tests.outreach.conftest import contacts, letters  # noqa: F401


@pytest.fixture(autouse=True)
def default_terms(db: None) -> None:
    """The lists a fresh database has (evidence migration 0002): a transactional test elsewhere
    in the run (tests/campaigns/test_high_security.py, the browser tests) empties every table,
    data migrations' rows included. The seed is idempotent."""
    from django.apps import apps

    import_module("campaigns.migrations.0002_issue_areas").seed(apps, None)
    import_module("evidence.migrations.0002_default_terms").seed(apps, None)

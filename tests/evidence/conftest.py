from __future__ import annotations

# The live campaign and the outreach fixtures the summary tests attach evidence to.
from tests.campaigns.conftest import issue_area, live  # noqa: F401
from tests.outreach.conftest import contacts, letters  # noqa: F401

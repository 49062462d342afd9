from __future__ import annotations

# The proof-of-work solver the sign-page tests use: some fuzz examples post a really solved one.
from tests.campaigns.conftest import pow_solution  # noqa: F401

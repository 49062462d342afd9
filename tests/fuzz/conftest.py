from __future__ import annotations

# The proof-of-work solver the sign-page tests use: some fuzz examples post a really solved one.
from tests.campaigns.conftest import pow_solution  # noqa: F401

# The permission table's scenario: the query fuzzer walks the public pages it lists.
from tests.test_permissions import world  # noqa: F401

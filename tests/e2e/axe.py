"""axe-core for the browser tests, from npm (tests/e2e/vendor/package-lock.json), never served
by the site: Playwright injects the file into the page under test (add_script_tag(path=...)).

The injected script is inline, which our Content-Security-Policy (script-src 'self') refuses, so
contexts that run axe are opened with bypass_csp=True; tests/e2e/test_accessibility.py checks
the same pages under the policy too (the reflow test), so nothing we ship escapes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

VENDOR = Path(__file__).parent / "vendor"
AXE = VENDOR / "node_modules" / "axe-core" / "axe.min.js"
INSTALL = "npm ci --prefix tests/e2e/vendor (make e2e-tools)"

# Every rule axe runs by default (WCAG 2.0-2.2 A and AA plus best practices): any violation fails.
_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


def require_axe() -> None:
    if AXE.exists():
        return
    message = f"{AXE} is missing: {INSTALL}"
    if os.environ.get("COALITION_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now (injected once per document)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(_RUN)
    return violations

"""The budgets of a case report: the signing budgets, except the one everyone without
JavaScript shares, which reports have to themselves.

Per address and per email domain, a report costs what a signature costs (campaigns/limits.py):
the same people and the same bots. The global budget of posts without JavaScript
(foundation/nojs.py) is separate, so a flood of made-up reports cannot use up what Tor signers
without JavaScript need, or the other way round.
"""

from __future__ import annotations

from django.http import HttpRequest

from campaigns.signing import email_domain
from foundation.nojs import nojs_budget_spend
from foundation.ratelimit import limit

NOJS_SCOPE = "report_nojs"


def report_limits(request: HttpRequest, *, email: str, pow_verified: bool) -> None:
    """Count a valid report post against its budgets; raise RateLimited (a 429) when over."""
    domain = email_domain(email)
    if pow_verified:
        limit(request, scope="sign_domain", key="domain:" + domain)
    else:
        limit(request, scope="sign_domain_unverified", key="domain-unverified:" + domain)
        nojs_budget_spend(request, scope=NOJS_SCOPE)

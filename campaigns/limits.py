"""The rate limits on signing, one place for the sign page, the widget and the API.

Budgets are split so that nobody can spend someone else's:
- ``sign_ip``: every post from one address (an IPv6 client's whole /64), counted before anything
  else, so invalid posts cost the sender too.
- ``sign_domain``: posts per email domain, counted only for posts that carried a solved proof of
  work. Counting cheap posts here let 615 posts without JavaScript, from 205 addresses, lock every
  gmail.com signer out for an hour (issue 10).
- ``sign_ip_unverified`` and ``sign_domain_unverified``: the posts without a solved proof of work
  (JavaScript off) have budgets of their own; a flood of them can only ever hold back other posts
  without one, never a signer whose browser did the work.
"""

from __future__ import annotations

from django.http import HttpRequest

from campaigns.signing import email_domain
from foundation.ratelimit import limit


def sign_limits(request: HttpRequest, *, email: str, pow_verified: bool) -> None:
    """Count a valid sign post against its budgets; raise RateLimited (a 429) when over."""
    domain = email_domain(email)
    if pow_verified:
        limit(request, scope="sign_domain", key="domain:" + domain)
    else:
        limit(request, scope="sign_ip_unverified")
        limit(request, scope="sign_domain_unverified", key="domain-unverified:" + domain)

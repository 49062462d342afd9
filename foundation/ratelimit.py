"""Rate limits for our own forms and endpoints, on top of django-ratelimit.

Limits are keyed by a *keyed hash* of the client's IP address (for IPv6, of its /64) or of
another value such as the account, so neither the cache nor the logs ever hold a plain address.
Over-limit requests get a 429 with Retry-After, are logged, and change nothing. allauth's own
limits (login, sign-up, password reset) use the same keyed hash through
members.adapters.AccountAdapter.get_client_ip.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)


class RateLimited(Exception):
    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(f"rate limit exceeded for {scope}")
        self.scope = scope
        self.retry_after = max(1, retry_after)


def keyed_hash(value: str) -> str:
    return hmac.new(settings.HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies go."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def client_network(request: HttpRequest) -> str:
    """What one client's limits are counted on: an IPv4 address, or an IPv6 address's /64.

    An IPv6 subscriber is routinely given a whole /64 (RFC 6177), so counting single IPv6
    addresses would hand one machine 2**64 budgets.
    """
    raw = client_ip(request)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw  # not an address (a test client, a misconfigured proxy): count it as it is
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


def client_fingerprint(request: HttpRequest) -> str:
    return keyed_hash("ip:" + client_network(request))


def limit(request: HttpRequest, *, scope: str, key: str | None = None) -> None:
    """Count one attempt against ``settings.RATE_LIMITS[scope]``; raise RateLimited when over.

    ``key`` defaults to the client's address; pass e.g. ``f"user:{user.pk}"`` to limit per account.
    """
    rate = settings.RATE_LIMITS[scope]
    value = keyed_hash(key) if key is not None else client_fingerprint(request)
    key_fn: Callable[[str, HttpRequest], str] = lambda _group, _request: value  # noqa: E731
    try:
        usage: dict[str, Any] | None = get_usage(
            request, group=scope, key=key_fn, rate=rate, increment=True
        )
    except Exception:
        # The cache is down. Failing closed would take every form down with it; failing open
        # for the minutes of an outage is the lesser harm (CAPTCHA-free forms still need CSRF).
        logger.warning("rate limit cache unavailable; allowing request", extra={"scope": scope})
        return
    if usage and usage["should_limit"]:
        logger.warning("rate limited", extra={"scope": scope})
        raise RateLimited(scope, int(usage["time_left"]))


def too_many_requests(request: HttpRequest, retry_after: int = 60) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "type": "about:blank",
                "title": "Too Many Requests",
                "status": 429,
                "detail": _("Too many attempts. Try again in %(n)d seconds.") % {"n": retry_after},
            },
            status=429,
            content_type="application/problem+json",
        )
    else:
        response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RateLimited):
            return too_many_requests(request, exception.retry_after)
        return None

"""Rate limits for our own forms and endpoints, on top of django-ratelimit.

Limits are keyed by a *keyed hash* of the client's IP address (for IPv6, of its /64) or of
another value such as the account, so neither the cache nor the logs ever hold a plain address.
The key of those hashes changes every day (``limit_hash``): it mixes the secret with a random
salt of the day that lives only in the cache, beside the counters, and expires with them, so
once a day's salt is gone nobody (not even with the secret) can tell whether two days' hashes
came from the same address. Counting across midnight: what a client spent in the last period of
a limit before 00:00 UTC is kept in a counter of our own (not one of django-ratelimit's windows,
whose start differs per key) and added to today's during the first period after it, so a flood
that straddles midnight is still refused (docs/privacy-and-security.md).
Over-limit requests get a 429 with Retry-After, are logged, and change nothing. allauth's own
limits (login, sign-up, password reset) use the same keyed hash through
members.adapters.AccountAdapter.get_client_ip.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import _split_rate, get_usage

logger = logging.getLogger(__name__)


class RateLimited(Exception):
    def __init__(self, scope: str, retry_after: int) -> None:
        super().__init__(f"rate limit exceeded for {scope}")
        self.scope = scope
        self.retry_after = max(1, retry_after)


def keyed_hash(value: str) -> str:
    """A stable keyed hash, for what must be found again later (mailbox digests, token hashes).
    Never for client addresses: those use ``limit_hash``, whose key changes daily."""
    return hmac.new(settings.HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


_DAY_SALT_KEY = "ratelimit:day-salt:"
# A day's salt is needed through that day and, for counting across midnight, the next one.
_DAY_SALT_TTL = int(timedelta(days=2).total_seconds())


def today() -> date:
    return datetime.now(UTC).date()


# Each process keeps the keys of today and yesterday (the days whose salts are still in the
# cache) and reads the salt again after this long: the sign POST computes two or three hashes,
# and reading the salt for each cost two cache round trips (issue 11). Should the cache lose a
# salt (a flush, an eviction), every process has the new one within this time.
_DAY_KEY_RECHECK_SECONDS = 60.0
_day_keys: dict[date, tuple[bytes, float]] = {}


def _day_key(day: date) -> bytes:
    """HMAC(secret, date || salt of the day): the salt is random, kept only in the cache and
    expires after two days, which is what makes the day's hashes unlinkable afterwards.
    ``cache.add`` is atomic, so every process of the site agrees on one salt per day. A process
    keeps the keys of today and yesterday: an older day's key is dropped the first time after
    midnight that the process computes one (an idle process holds it until its next request)."""
    now = time.monotonic()
    known = _day_keys.get(day)
    if known is not None and now - known[1] < _DAY_KEY_RECHECK_SECONDS:
        return known[0]
    name = _DAY_SALT_KEY + day.isoformat()
    salt = cache.get(name)
    if salt is None:
        cache.add(name, secrets.token_hex(32), timeout=_DAY_SALT_TTL)
        salt = cache.get(name)
    if not isinstance(salt, str):
        raise RuntimeError("no salt for the day in the cache")
    message = f"foundation.ratelimit:{day.isoformat()}:{salt}".encode()
    key = hmac.new(settings.HASH_KEY.encode(), message, hashlib.sha256).digest()
    yesterday = today() - timedelta(days=1)
    for old in [d for d in list(_day_keys) if d < yesterday]:  # other threads may write too
        _day_keys.pop(old, None)
    if day >= yesterday:
        _day_keys[day] = (key, now)
    return key


def day_keys_forget() -> None:
    """Forget the day keys this process holds, as if it had just started (the tests, after
    emptying the cache, where the salts were)."""
    _day_keys.clear()


def limit_hash(value: str, *, day: date | None = None) -> str:
    """A keyed hash of ``value`` (an address, a mailbox, a domain) under the key of ``day``."""
    return hmac.new(_day_key(day or today()), value.encode(), hashlib.sha256).hexdigest()


def is_onion_request(request: HttpRequest) -> bool:
    """The request came through our onion service: it arrived on the port only the tor daemon
    connects to (settings.ONION_PORT, SERVER_PORT from gunicorn's listening socket). Its
    socket address is the tor daemon's, shared by every Tor user, and any X-Forwarded-For is the
    client's own invention. Never decided by the Host header, which the client writes: a
    clearnet bot sending ``Host: <onion>`` would otherwise skip every per-address limit
    (coalition.middleware refuses the onion host on any other port)."""
    if not getattr(settings, "ONION_HOST", ""):
        return False
    return str(request.META.get("SERVER_PORT", "")) == str(settings.ONION_PORT)


def is_onion_host(request: HttpRequest) -> bool:
    """The Host header names the onion (whatever path the request came by)."""
    onion: str = getattr(settings, "ONION_HOST", "")
    host = str(request.META.get("HTTP_HOST", "")).lower().rsplit(":", 1)[0]
    return bool(onion) and host == onion


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies go."""
    if is_onion_request(request):
        return "onion"
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
    """Today's keyed hash of the client's network (allauth's limits key on it too)."""
    try:
        return limit_hash("ip:" + client_network(request))
    except Exception:
        # The cache (and so the day's salt) is away: allauth's limits then count nothing
        # either. A fixed value keeps the request going without writing an address anywhere.
        return "cache-unavailable"


def limit(request: HttpRequest, *, scope: str, key: str | None = None) -> None:
    """Count one attempt against ``settings.RATE_LIMITS[scope]``; raise RateLimited when over.

    ``key`` defaults to the client's address; pass e.g. ``f"user:{user.pk}"`` to limit per account,
    ``"global:<name>"`` for one budget shared by everyone.
    """
    if not settings.RATELIMIT_ENABLE:
        # Limits off (COALITION_RATELIMIT_ENABLE=0, the benchmarks): django-ratelimit counts
        # nothing then, and nor does the counter across midnight, which only serves the limits.
        return
    rate = settings.RATE_LIMITS[scope]
    if key is not None:
        value = key
    elif is_onion_request(request):
        # Every onion visitor has the tor daemon's address: one budget for the address would be
        # one budget for all of them. The page instead (a signer's link holds its token, so each
        # link has its own budget; a shared form's page is shared, as an address would be).
        value = "onion-path:" + request.path
    else:
        value = "ip:" + client_network(request)
    try:
        usage = _usage(request, scope, rate, value, day=today())
        usage = _across_midnight(scope, rate, value, usage)
    except Exception:
        # The cache is down. Failing closed would take every form down with it; failing open
        # for the minutes of an outage is the lesser harm (CAPTCHA-free forms still need CSRF).
        logger.warning("rate limit cache unavailable; allowing request", extra={"scope": scope})
        return
    if usage and usage["should_limit"]:
        logger.warning("rate limited", extra={"scope": scope})
        raise RateLimited(scope, int(usage["time_left"]))


def _usage(
    request: HttpRequest, scope: str, rate: str, value: str, *, day: date
) -> dict[str, Any] | None:
    hashed = limit_hash(value, day=day)
    key_fn: Callable[[str, HttpRequest], str] = lambda _group, _request: hashed  # noqa: E731
    usage: dict[str, Any] | None = get_usage(
        request, group=scope, key=key_fn, rate=rate, increment=True
    )
    return usage


_EVENING_KEY = "ratelimit:evening:"
_EVENING_MAX_SECONDS = 3600


def _evening_key(scope: str, value: str, day: date) -> str:
    return _EVENING_KEY + scope + ":" + limit_hash(value, day=day)


def _across_midnight(
    scope: str, rate: str, value: str, usage: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Today's key must not hand out a fresh budget at midnight.

    In the last period of a limit (at most an hour) before 00:00 UTC every attempt is also
    counted in a key of our own (under that day's hash, so it is as unlinkable as the day's
    other counters); in the first period after it, that count is added to today's.
    django-ratelimit's own windows cannot be read for this: each key's window starts at an
    offset taken from the key itself, so yesterday's window may already have closed (or not yet
    have begun) at midnight.
    """
    allowed, period = _split_rate(rate)
    # At most the last hour: a daily limit's "last period" would be the whole day, and one
    # flood of a shared key would then lock everyone out for the next day as well.
    span = min(period, _EVENING_MAX_SECONDS)
    into_day = time.time() % 86400
    day = today()
    if into_day >= 86400 - span:
        evening = _evening_key(scope, value, day)
        cache.add(evening, 0, timeout=2 * span + 60)
        cache.incr(evening)
    if usage is None or usage["should_limit"] or into_day >= span:
        return usage
    earlier = cache.get(_evening_key(scope, value, day - timedelta(days=1)))
    if isinstance(earlier, int) and usage["count"] + earlier > allowed:
        return {**usage, "should_limit": True, "time_left": max(usage["time_left"], 1)}
    return usage


def _shared_budget(scope: str) -> bool:
    """A budget everybody shares (the posts without JavaScript): its refusal must say so."""
    return scope.endswith("_nojs")


def too_many_requests(request: HttpRequest, retry_after: int = 60, scope: str = "") -> HttpResponse:
    shared = _shared_budget(scope)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "type": "about:blank",
                "title": "Too Many Requests",
                "status": 429,
                "detail": (
                    _(
                        "Too many signatures without a proof of work were sent in the last hour "
                        "by everybody together. Send one with the proof of work, or try again "
                        "in %(n)d seconds."
                    )
                    if shared
                    else _("Too many attempts. Try again in %(n)d seconds.")
                )
                % {"n": retry_after},
            },
            status=429,
            content_type="application/problem+json",
        )
    else:
        response = render(
            request,
            "429.html",
            {"retry_after": retry_after, "shared": shared, "minutes": -(-retry_after // 60)},
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    return response


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RateLimited):
            return too_many_requests(request, exception.retry_after, exception.scope)
        return None

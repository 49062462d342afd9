"""Proof of work on the sign form: ALTCHA, self-hosted, no third party.

The sign page carries a signed challenge (a page left open past its expiry fetches a fresh one
from ``challenge_view``), the vendored ALTCHA widget solves it in web workers while the person
types, and the form posts the solution back in its ``altcha`` field.
It makes bulk signing cost CPU per signature; it is not a login. Without JavaScript there is no
solution, and the sign view applies a much stricter rate limit instead (progressive enhancement).

We speak ALTCHA's protocol v2 (the Python library's unprefixed API), the one widget v3 speaks
natively; see static/vendor/altcha/README.md for why that pairing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import timedelta

import altcha
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# One round of SHA-256 per attempt: the browser computes it with WebCrypto in the vendored
# worker (static/vendor/altcha/workers/sha.js) and we verify with a single hash. Memory-hard
# algorithms would need WebAssembly workers; this is friction against bulk abuse, not a vault.
ALGORITHM = "SHA-256"
COST = 1
EXPIRES_AFTER = timedelta(minutes=20)
# A real payload is about 600 characters; refuse to base64- and JSON-decode anything much bigger.
MAX_PAYLOAD_CHARS = 4096
_USED_KEY = "pow:used:"


def challenge_create() -> altcha.Challenge:
    """A fresh signed challenge that expires in 20 minutes."""
    max_number: int = settings.ALTCHA_MAX_NUMBER
    # Deterministic mode: we choose the counter the browser must reach, so every challenge costs
    # between half and all of ALTCHA_MAX_NUMBER hashes. Left to chance (a short key prefix), the
    # work varies widely: some people wait several times the average, some bots next to nothing.
    floor = max_number // 2
    return altcha.create_challenge(
        ALGORITHM,
        COST,
        counter=floor + secrets.randbelow(max(1, max_number - floor)),
        expires_at=int(time.time() + EXPIRES_AFTER.total_seconds()),
        hmac_secret=_signing_key(),
    )


def challenge_json() -> str:
    """A fresh challenge as the JSON the widget reads from its ``challenge`` attribute: issuing
    one in the page costs an HMAC, far less than the extra request the widget would make."""
    return json.dumps(challenge_create().to_dict(), separators=(",", ":"))


def solution_verify(payload: str) -> bool:
    """True for a solved, unexpired, untampered challenge of ours that was never used before.

    A True answer uses the challenge up: the same payload is refused from then on, so one solve
    cannot be replayed for a thousand signatures.
    """
    if not payload or len(payload) > MAX_PAYLOAD_CHARS:
        return False
    try:
        parsed = altcha.Payload.from_base64(payload)
        result = altcha.verify_solution(parsed, _signing_key())
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return False  # not base64, not JSON, or not shaped like a payload
    if not result.verified:
        return False
    return _use_once(parsed.challenge)


def _signing_key() -> str:
    # ALTCHA_HMAC_KEY defaults to SECRET_KEY, which other code also uses for HMACs: derive a key of
    # our own so that no signature made here is ever valid anywhere else, or the other way round.
    return hmac.new(
        settings.ALTCHA_HMAC_KEY.encode(), b"coalition.campaigns.pow", hashlib.sha256
    ).hexdigest()


def _use_once(challenge: altcha.Challenge) -> bool:
    """Remember the challenge's signature until it expires; False if it was already there."""
    expires_at = challenge.parameters.expires_at
    # Once expired, verify_solution refuses the payload by itself: no need to remember it longer.
    if isinstance(expires_at, int) and expires_at > time.time():
        timeout = int(expires_at - time.time()) + 1
    else:
        timeout = int(EXPIRES_AFTER.total_seconds())
    try:
        # add() is atomic (SET NX in Redis): of two concurrent posts of one payload, one wins.
        return bool(cache.add(_USED_KEY + str(challenge.signature), 1, timeout=timeout))
    except Exception:
        # The cache is down. Refusing every solution would fail every JavaScript signer; like
        # the rate limits (foundation/ratelimit.py), we fail open for the minutes of an outage.
        logger.warning("proof-of-work replay cache unavailable; accepting solution")
        return True


@never_cache
@require_GET
def challenge_view(request: HttpRequest) -> JsonResponse:
    """GET /petitions/pow-challenge/: a fresh challenge for the widget, never cached."""
    return JsonResponse(challenge_create().to_dict())

"""Standard Webhooks signatures (https://www.standardwebhooks.com, symmetric "v1" scheme).

The secret is shown to the organization as ``whsec_`` + base64 of 32 random bytes; the HMAC key
is those bytes. Each request is signed over ``{webhook-id}.{webhook-timestamp}.{body}`` with
HMAC-SHA256 and sent as ``v1,<base64 signature>``. While a rotated-out secret is still within its
overlap, the request carries both signatures, space-separated, so the receiver may verify with
either (the spec's zero-downtime rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def secret_generate() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(*, secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(*, secrets_: list[str], event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Coalition-Webhooks/1",
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=secret, event_id=event_id, timestamp=timestamp, body=body)
            for secret in secrets_
        ),
    }

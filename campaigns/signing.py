"""Signer-facing tokens and email normalization: the pieces of signing that hold no state."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing

# Normalization lives with the outbox's recipient digest, so both key on the same mailbox.
from foundation.mailbox import email_digest as email_digest
from foundation.mailbox import email_domain as email_domain
from foundation.mailbox import email_normalize as email_normalize

_SALT = "campaigns.signature"


def digest_token(digest: str) -> str:
    """A link token naming a signer only by the keyed hash of their address."""
    return signing.dumps({"d": digest}, salt=_SALT + ".erase", compress=True)


def digest_from_token(token: str) -> str | None:
    try:
        data = signing.loads(token, salt=_SALT + ".erase")
    except signing.BadSignature:
        return None
    value = data.get("d") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def token_make(signature_id: int, purpose: str) -> str:
    return signing.dumps({"s": signature_id, "p": purpose}, salt=_SALT, compress=True)


def token_read(token: str, purpose: str, max_age: timedelta | None) -> int | None:
    """The signature id in a token made for ``purpose``, or None if tampered or expired."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("p") != purpose or not isinstance(data.get("s"), int):
        return None
    return int(data["s"])

"""Signer-facing tokens and email normalization: the pieces of signing that hold no state."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from django.core import signing

from coalition.ratelimit import keyed_hash

_SALT = "campaigns.signature"
# Providers known to ignore dots in the local part; the same person must not sign twice.
_DOTLESS_DOMAINS = {"gmail.com", "googlemail.com"}


def email_normalize(email: str) -> str:
    """The address as a mailbox, for deduplication.

    Policy (documented in the README): Unicode NFKC, trimmed, lower-cased; a "+tag" in the local
    part is dropped for every domain (nobody needs two signatures on one petition); dots are
    dropped for Gmail, which ignores them; googlemail.com is treated as gmail.com.
    """
    email = unicodedata.normalize("NFKC", email).strip().lower()
    local, _at, domain = email.rpartition("@")
    local = local.split("+", 1)[0]
    try:
        domain = domain.encode("idna").decode("ascii") if domain else domain
    except UnicodeError:
        pass  # not a valid IDN: keep it as typed; the form has already rejected it if bad
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in _DOTLESS_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_digest(email: str) -> str:
    return keyed_hash("email:" + email_normalize(email))


def email_domain(email: str) -> str:
    return email_normalize(email).rpartition("@")[2]


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

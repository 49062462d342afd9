"""Authenticated encryption of personal data at rest (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from COALITION_ENCRYPTION_KEYS, newest first. Every key still decrypts, only the
first encrypts, so a new key can be added in front and `manage.py rotate_encryption_keys`
re-encrypts everything under it before the old key is removed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from itertools import accumulate, compress, repeat
from operator import itemgetter, mul, sub
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings

EMAIL = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+\.[A-Za-z]{2,}")


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "Personal data could not be decrypted: the key that encrypted it is not in "
            "COALITION_ENCRYPTION_KEYS."
        ) from exc


def decrypt_many(tokens: Sequence[str]) -> list[str]:
    """``decrypt`` of each token, for exports of a million rows: the same checks as Fernet's,
    with the per-token work done in C loops (``map``) and one AES call per batch and key.

    Each token must be URL-safe base64 of version byte 0x80, timestamp, IV, at least one AES
    block and an HMAC-SHA256 tag; the tag must verify (constant-time compare) under one of
    COALITION_ENCRYPTION_KEYS, tried newest first as MultiFernet does; only then is the token
    decrypted (AES-128-CBC) and its PKCS#7 padding checked. No time-to-live, as ``decrypt``.
    Empty strings stay empty (fields left blank are stored so). Raises ValueError, as
    ``decrypt`` does, on a token that no key authenticates or that is not a token.
    """
    present = list(compress(tokens, tokens))
    if not present:
        return list(tokens)
    try:
        # One translation and one split for the whole batch; a2b_base64 per token (C).
        joined = "\n".join(present).encode("ascii").translate(_URLSAFE_TO_STANDARD)
        raws = list(map(binascii.a2b_base64, joined.split(b"\n")))
    except (ValueError, TypeError) as exc:  # binascii.Error and UnicodeError are ValueErrors
        raise ValueError("Personal data could not be decrypted: not a token.") from exc
    if len(raws) != len(present) or not all(map(_token_size, set(map(len, raws)))):
        raise ValueError("Personal data could not be decrypted: not a token.")
    if set(map(_FIRST_BYTE, raws)) != {0x80}:
        raise ValueError("Personal data could not be decrypted: not a token.")
    plain: list[str] = [""] * len(raws)
    todo = list(range(len(raws)))  # positions not yet authenticated
    for key in _batch_keys(tuple(settings.ENCRYPTION_KEYS)):
        group = raws if len(todo) == len(raws) else [raws[i] for i in todo]
        macs, tags = key.macs(map(_BODY, group)), list(map(_TAG, group))
        # One constant-time comparison for the whole batch; token by token only if it fails.
        if hmac.compare_digest(b"".join(macs), b"".join(tags)):
            verified = [True] * len(group)
        else:
            verified = list(map(hmac.compare_digest, macs, tags))
        if len(group) == len(raws) and all(verified):
            plain = key.decrypt_verified(raws)  # the usual case: every token under one key
            break
        done = list(compress(todo, verified))
        for i, text in zip(done, key.decrypt_verified([raws[i] for i in done]), strict=True):
            plain[i] = text
        todo = [i for i, ok in zip(todo, verified, strict=True) if not ok]
        if not todo:
            break
    else:
        raise ValueError(
            "Personal data could not be decrypted: the key that encrypted it is not in "
            "COALITION_ENCRYPTION_KEYS."
        )
    if len(plain) == len(tokens):
        return plain
    # Blanks back in place, in C: a token's number among the present ones (1, 2, ...) picks
    # its plaintext, 0 (a blank) the "" in front.
    present_flags = list(map(bool, tokens))
    numbers = map(mul, present_flags, accumulate(present_flags))
    return list(map(["", *plain].__getitem__, numbers))


# Fernet's layout: version (1 byte) | timestamp (8) | IV (16) | ciphertext (16n) | HMAC tag (32).
_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_FIRST_BYTE = itemgetter(0)
_BODY = itemgetter(slice(None, -32))  # what the tag authenticates
_TAG = itemgetter(slice(-32, None))
_IV_AND_CIPHERTEXT = itemgetter(slice(9, -32))
# PKCS#7: a last byte n (1-16) ends n bytes of n. Any other last byte maps to a byte string
# that cannot end the text (its one byte differs from the text's last), so the check fails.
_PADDING = tuple(bytes([n]) * n if 1 <= n <= 16 else bytes([n ^ 1]) for n in range(256))


def _token_size(size: int) -> bool:
    return size >= 57 + 16 and (size - 57) % 16 == 0  # at least one block of ciphertext


class _BatchKey:
    """One Fernet key for ``decrypt_many``: HMAC-SHA256 from the hash states after the padded
    key (RFC 2104, computed once instead of twice per token) and AES-128-CBC."""

    def __init__(self, key: str) -> None:
        raw = base64.urlsafe_b64decode(key)
        signing, self.encryption = raw[:16], raw[16:]
        block = signing.ljust(64, b"\0")
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def macs(self, messages: Iterable[bytes]) -> list[bytes]:
        inner, outer = self.inner.copy, self.outer.copy
        tags: list[bytes] = []
        append = tags.append
        for message in messages:
            state = inner()
            state.update(message)
            tag = outer()
            tag.update(state.digest())
            append(tag.digest())
        return tags

    def decrypt_verified(self, tokens: list[bytes]) -> list[str]:
        """The plaintexts of tokens whose tags were verified under this key."""
        if not tokens:
            return []
        # CBC decryption of every token's IV and ciphertext run together: each token's first
        # block comes out as junk (it is "decrypted" as if chained to the previous token) and
        # is skipped, after which the token's IV chains its ciphertext exactly as on its own.
        decryptor = Cipher(algorithms.AES(self.encryption), modes.CBC(bytes(16))).decryptor()
        out = decryptor.update(b"".join(map(_IV_AND_CIPHERTEXT, tokens))) + decryptor.finalize()
        # Where each token's output ends, and where its plaintext starts (after the junk block).
        ends = list(accumulate(map(sub, map(len, tokens), repeat(41))))  # IV and ciphertext
        starts = list(map(sub, ends, map(sub, map(len, tokens), repeat(57))))
        pads = list(map(out.__getitem__, map(sub, ends, repeat(1))))
        if not all(map(out.endswith, map(_PADDING.__getitem__, pads), starts, ends)):
            raise ValueError("Personal data could not be decrypted: bad padding.")
        texts = map(out.__getitem__, map(slice, starts, map(sub, ends, pads)))
        return list(map(bytes.decode, texts))


@cache
def _batch_keys(keys: tuple[str, ...]) -> tuple[_BatchKey, ...]:
    return tuple(_BatchKey(key) for key in keys)


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


# How every Fernet token starts (version byte and timestamp); not a secret.
_TOKEN_PREFIX = "gAAAAA"  # noqa: S105


def is_token(value: str) -> bool:
    return value.startswith(_TOKEN_PREFIX)


def encrypt_if_plain(value: str | None) -> str | None:
    """For migrations: encrypt a value stored in the clear; leave a token or nothing as it is."""
    return value if not value or is_token(value) else encrypt(value)


# Entries of allauth's Authenticator.data that members.adapters.MFAAdapter encrypts: the TOTP
# key, the recovery-code seed, and codes migrated from another package.
MFA_SECRET_KEYS = ("secret", "seed")


def mfa_secrets_map(data: dict[str, Any], fn: Callable[[str], str]) -> dict[str, Any]:
    """A copy of an Authenticator's data with `fn` applied to each of its secrets."""
    data = dict(data)
    for key in MFA_SECRET_KEYS:
        if isinstance(data.get(key), str):
            data[key] = fn(data[key])
    if isinstance(data.get("migrated_codes"), list):
        data["migrated_codes"] = [fn(code) for code in data["migrated_codes"]]
    return data


def scrub(text: str) -> str:
    """Remove email addresses from text bound for logs or error columns."""
    return EMAIL.sub("<address>", text)


def encrypt_plaintext_rows(connection: object, table: str, columns: list[str]) -> None:
    """Migration helper: encrypt values written before a column became encrypted.

    Values that already are Fernet tokens are left alone, so the migration is safe to run on a
    database where some rows were already encrypted.
    """
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table}")  # noqa: S608 - our names
        rows = cursor.fetchall()
        for row in rows:
            values = [encrypt_if_plain(value) for value in row[1:]]
            if values != list(row[1:]):
                assignments = ", ".join(f"{column} = %s" for column in columns)
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608 - our names
                    [*values, row[0]],
                )

"""Authenticated encryption of personal data at rest (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from COALITION_ENCRYPTION_KEYS, newest first. Every key still decrypts, only the
first encrypts, so a new key can be added in front and `manage.py rotate_encryption_keys`
re-encrypts everything under it before the old key is removed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
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

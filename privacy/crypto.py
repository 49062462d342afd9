"""Authenticated encryption of personal data at rest (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from COALITION_ENCRYPTION_KEYS, newest first. Every key still decrypts, only the
first encrypts, so a new key can be added in front and `manage.py rotate_encryption_keys`
re-encrypts everything under it before the old key is removed.
"""

from __future__ import annotations

import re
from functools import cache

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


def scrub(text: str) -> str:
    """Remove email addresses from text bound for logs or error columns."""
    return EMAIL.sub("<address>", text)


def encrypt_plaintext_rows(connection: object, table: str, columns: list[str]) -> None:
    """Migration helper: encrypt values written before a column became encrypted.

    Values that already are Fernet tokens (they start with "gAAAAA") are left alone, so the
    migration is safe to run on a database where some rows were already encrypted.
    """
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table}")  # noqa: S608 - our names
        rows = cursor.fetchall()
        for row in rows:
            values = [
                encrypt(value) if value and not str(value).startswith("gAAAAA") else value
                for value in row[1:]
            ]
            if values != list(row[1:]):
                assignments = ", ".join(f"{column} = %s" for column in columns)
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608 - our names
                    [*values, row[0]],
                )

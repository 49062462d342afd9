"""A text column whose content is only ever stored encrypted.

It cannot be searched or compared in SQL (each encryption is different): look rows up by a
keyed hash column instead, as signatures do with email_digest.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from foundation.crypto import decrypt, encrypt


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

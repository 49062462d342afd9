"""Re-encrypt all personal data under the first key of COALITION_ENCRYPTION_KEYS.

Key rotation: put a new key first in COALITION_ENCRYPTION_KEYS (keep the old ones after it),
restart, run this command, then remove the old keys.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from privacy.services import keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt signers' personal data, the outbox and two-factor secrets with the newest "
        "encryption key."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = keys_rotate()
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {rows} rows."))

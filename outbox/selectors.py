"""Reads of the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from outbox.models import Email


def emails_to_mailbox_count(*, digest: str, kinds: Iterable[str], since: datetime) -> int:
    """How many emails of these kinds were queued for one mailbox (every spelling) since then."""
    return Email.objects.filter(
        recipient_digest=digest, kind__in=list(kinds), created_at__gte=since
    ).count()

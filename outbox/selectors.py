"""Reads of the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection

from outbox.models import Email


def emails_to_mailbox_count(*, digest: str, kinds: Iterable[str], since: datetime) -> int:
    """How many emails of these kinds were queued for one mailbox (every spelling) since then."""
    return Email.objects.filter(
        recipient_digest=digest, kind__in=list(kinds), created_at__gte=since
    ).count()


def emails_to_mailbox_reach(
    *, digest: str, kinds: Iterable[str], since: datetime, cap: int
) -> bool:
    """Whether at least ``cap`` emails of these kinds were queued for one mailbox since then.

    The per-POST form of ``emails_to_mailbox_count`` for the anti-mail-bomb caps: one plain
    statement on the ``(recipient_digest, created_at)`` index that stops at ``cap`` rows, so a
    mailbox with thousands of letters costs no more than one with none, and no ORM query is
    built per signature. Same rows, same answer as ``count >= cap``."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {Email._meta.db_table}"  # noqa: S608 (our table)
            " WHERE recipient_digest = %s AND created_at >= %s AND kind IN ("
            + ", ".join(["%s"] * len(kinds := list(kinds)))
            + ") LIMIT %s) AS capped",
            [digest, since, *kinds, cap],
        )
        row = cursor.fetchone()
    return bool(row and row[0] >= cap)

from __future__ import annotations

from celery import shared_task

from members.services import decisions_close_due as _decisions_close_due


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270, ignore_result=True)
def decisions_close_due() -> int:
    """Beat runs this every minute; closing is idempotent, so overlapping runs are harmless."""
    return _decisions_close_due()

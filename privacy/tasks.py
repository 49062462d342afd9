from __future__ import annotations

from celery import shared_task

from privacy import services


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700, ignore_result=True)
def retention_purge() -> int:
    """Daily: delete personal data past its retention period (safe to run twice)."""
    return services.retention_purge()

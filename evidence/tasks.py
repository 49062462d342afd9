from __future__ import annotations

from celery import shared_task

from evidence import services


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700, ignore_result=True)
def reports_purge() -> int:
    """Daily: case reports past their retention period, and the release of approved public
    versions on release days (both safe to run twice)."""
    return services.reports_purge() + services.accounts_release()

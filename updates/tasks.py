from __future__ import annotations

from celery import shared_task

from updates import services


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1770, ignore_result=True)
def update_fanout(update_id: int) -> int:
    """Queue an adopted update's mails, batch by batch (idempotent: see the service)."""
    return services.update_fanout(update_id=update_id)


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1770, ignore_result=True)
def updates_fanout_due() -> int:
    return services.updates_fanout_due()

"""Celery side of the outbox: thin wrappers, the logic is in outbox/services.py.

A relay hands due rows to workers, a worker sends one row. Every task is idempotent by database
state (the services claim rows with conditional UPDATEs), so a task delivered twice (acks_late,
a restarted worker) finds nothing to do the second time.
"""

from __future__ import annotations

from celery import shared_task

from outbox.services import email_send, emails_due_claim, emails_stuck_requeue


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def outbox_send(email_id: int) -> str:
    return email_send(email_id=email_id)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def outbox_relay() -> int:
    """Hand due rows to workers. Runs every few seconds from beat; safe to run concurrently."""
    lanes = emails_due_claim()
    for ids, queue in lanes:
        for email_id in ids:
            outbox_send.apply_async((email_id,), queue=queue)
    return sum(len(ids) for ids, _queue in lanes)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def outbox_sweep() -> int:
    """Put rows whose worker died mid-send back in the queue (outbox.services)."""
    return emails_stuck_requeue()

"""Celery side of the outbox: thin wrappers, the logic is in outbox/services.py.

A relay hands due rows to workers in batches, a worker sends a batch over one connection. Every
task is idempotent by database state (the services claim rows with conditional updates), so a
task delivered twice (acks_late, a restarted worker) finds nothing to do the second time.
"""

from __future__ import annotations

import logging

import redis
from celery import shared_task
from django.conf import settings
from django.utils import timezone
from redis.connection import parse_url
from redis.sentinel import Sentinel

from outbox.services import (
    email_send,
    emails_dispatch_forget,
    emails_due_claim,
    emails_send,
    emails_stuck_requeue,
)

logger = logging.getLogger(__name__)

# A key the relay keeps in the broker's own Redis database. Gone means the broker lost its data
# (a restart without persistence, a failover to a replica that missed the last writes), and
# with it the tasks it held: their rows are handed out again at once (emails_dispatch_forget).
BROKER_MARKER = "coalition:outbox:broker-marker"


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def outbox_send(email_id: int) -> str:
    return email_send(email_id=email_id)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def outbox_send_batch(email_ids: list[int]) -> int:
    """Send up to OUTBOX_SEND_BATCH rows over one connection; how many were sent."""
    outcomes = emails_send(ids=[int(pk) for pk in email_ids])
    return sum(1 for outcome in outcomes.values() if outcome == "sent")


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def outbox_relay() -> int:
    """Hand due rows to workers. Runs every few seconds from beat; safe to run concurrently."""
    if _broker_lost_its_data():
        forgotten = emails_dispatch_forget()
        logger.warning("broker lost its data: rows handed out again", extra={"rows": forgotten})
    lanes = emails_due_claim()
    size = max(1, settings.OUTBOX_SEND_BATCH)
    for ids, queue in lanes:
        for start in range(0, len(ids), size):
            outbox_send_batch.apply_async((ids[start : start + size],), queue=queue)
    return sum(len(ids) for ids, _queue in lanes)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def outbox_sweep() -> int:
    """Put rows whose worker died mid-send back in the queue (outbox.services)."""
    return emails_stuck_requeue()


def _broker_lost_its_data() -> bool:
    """Whether the marker was missing from the broker's database (it is there from now on)."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.REDIS_URL:
        return False
    client = _broker_client()
    return bool(client.set(BROKER_MARKER, timezone.now().isoformat(), nx=True))


def _broker_client() -> redis.Redis:
    """The broker's own Redis database (REDIS_URL, or its master behind Sentinel)."""
    global _client
    if _client is None:
        options = {"socket_timeout": 5, "socket_connect_timeout": 2}
        if settings.REDIS_SENTINELS:
            target = parse_url(settings.REDIS_URL)
            sentinel = Sentinel(
                settings.REDIS_SENTINELS,
                sentinel_kwargs={"password": settings.REDIS_SENTINEL_PASSWORD or None, **options},
                **options,
            )
            _client = sentinel.master_for(
                settings.REDIS_SENTINEL_MASTER,
                db=target.get("db", 0),
                password=target.get("password"),
                username=target.get("username"),
            )
        else:
            _client = redis.Redis.from_url(settings.REDIS_URL, **options)
    return _client


_client: redis.Redis | None = None

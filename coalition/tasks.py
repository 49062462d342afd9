"""Operational tasks of the project itself (not of any app)."""

from __future__ import annotations

from celery import shared_task

from coalition import health


@shared_task(acks_late=True, time_limit=30, soft_time_limit=20, ignore_result=True)
def worker_heartbeat() -> None:
    """Beat sends this every HEALTH_HEARTBEAT_SECONDS; whichever worker runs it proves that beat,
    the broker and a worker all work, and /healthz reads the time it wrote instead of pinging
    workers from inside a web request."""
    health.heartbeat_write()

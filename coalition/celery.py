"""The Celery app. Configuration lives in settings.py under the CELERY_ prefix."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, Task, signals
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")

app = Celery("coalition")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
def _database_connections_checked(task: Task | None = None, **kwargs: Any) -> None:
    """Before each task, what Django does before each request: close a kept connection that
    failed or outlived CONN_MAX_AGE; CONN_HEALTH_CHECKS then pings it before its first query.

    Without this, a connection kept across tasks (CELERY_DB_REUSE_MAX) that PostgreSQL dropped
    would fail every task of that process until it is recycled. Not for tasks run in-process
    (embedded mode, tests): they share the caller's connection and transaction.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()


@signals.worker_ready.connect
def _heartbeat_on_start(**kwargs: Any) -> None:
    """A worker that just started is healthy at once, not only after beat's next heartbeat."""
    from coalition import health

    try:
        health.heartbeat_write()
    except Exception as exc:  # the cache may still be starting; beat's heartbeat follows
        logging.getLogger(__name__).warning("heartbeat not written: %s", type(exc).__name__)

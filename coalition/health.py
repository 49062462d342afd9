"""Health of the deployment, answered cheaply enough to be polled by anyone.

/healthz once pinged the Celery workers through the broker, waiting up to a second per request:
two requests a second slowed every page of the site a hundredfold. Now the workers report in
(coalition.tasks.worker_heartbeat, sent by beat) and the check reads one cache key.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "health:worker-heartbeat"


def heartbeat_write() -> None:
    # Kept a little longer than the staleness limit, so "stale" and "never seen" read alike.
    cache.set(HEARTBEAT_KEY, time.time(), timeout=settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS * 2)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        logger.warning("health: database unavailable: %s", type(exc).__name__)
        return False
    return True


def _worker_ok() -> bool:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return True  # embedded mode: tasks run inside the web process itself
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception as exc:
        logger.warning("health: cache unavailable: %s", type(exc).__name__)
        return False
    if beat is None:
        logger.warning("health: no worker heartbeat")
        return False
    age = time.time() - float(beat)
    if age > settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS:
        logger.warning("health: worker heartbeat is %d s old", age)
        return False
    return True


def healthy() -> bool:
    """True when the database answers and a worker reported in recently.

    Never talks to Celery: a broker or worker outage costs at most the cache's one-second
    timeout, not a ping's wait per request.
    """
    database = _database_ok()
    worker = _worker_ok()
    return database and worker

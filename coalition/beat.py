"""One beat scheduler per cluster: celery-redbeat's lock in Redis, made to survive Redis outages.

Beat may be started on every node (or embedded in every worker, ``celery worker --beat``): each
one waits for RedBeat's lock, and only its holder sends the periodic jobs; when the holder dies
its lock expires (CELERY_REDBEAT_LOCK_TIMEOUT) and one of the others takes over. The jobs are
still each safe to run twice (two runs may overlap at a hand-over), but none runs twice per
period in normal operation.

What this subclass adds to RedBeat, and why: RedBeat keeps its schedule and its lock in Redis and
reads them on every tick. A Redis that comes back empty (restarted without persistence, or a
Sentinel failover to a replica that missed the last writes) has neither, and RedBeat then ends
the beat process (``LockNotOwnedError`` when extending the lock) or, holding no entries, sends
nothing ever again, so the relay would stop handing mail to workers. Here a tick that finds the
lock gone takes it again (waiting behind another beat that got it first) and installs the
static schedule again; a tick that cannot reach Redis waits a second and tries again instead of
ending the process. A beat that starts while Redis is down (a node restarted during an outage)
waits for it the same way instead of ending at once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import redis
from redbeat.schedulers import RedBeatScheduler, acquire_distributed_beat_lock
from redis.exceptions import LockError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class BeatScheduler(RedBeatScheduler):
    def __init__(self, *args: Any, schedule_filename: str | None = None, **kwargs: Any) -> None:
        # RedBeat keeps the schedule in Redis; the file named by --schedule is only touched on
        # every tick, as a sign of life for the container's health check (docker-compose.yml).
        self.alive_file = Path(schedule_filename) if schedule_filename else None
        super().__init__(*args, **kwargs)

    def setup_schedule(self) -> None:
        while True:
            try:
                super().setup_schedule()
                return
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                logger.warning("beat: Redis unavailable at start (%s); waiting", type(exc).__name__)
                time.sleep(RETRY_SECONDS)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self.alive_file is not None:
            with contextlib.suppress(OSError):
                self.alive_file.touch()
        try:
            if self.lock_key and (self.lock is None or not self.lock.owned()):
                self._lock_take_again()
            return float(super().tick(*args, **kwargs))
        except (redis.ConnectionError, redis.TimeoutError, LockError) as exc:
            logger.warning(
                "beat: Redis unavailable or lock lost (%s); retrying", type(exc).__name__
            )
            return RETRY_SECONDS

    def _lock_take_again(self) -> None:
        logger.warning("beat: the schedule lock is gone (Redis lost its data?); taking it again")
        # Blocks while another beat holds it: this one is then the stand-by.
        acquire_distributed_beat_lock(sender=_Sender(self))
        # Entries that survived keep their last run; the ones Redis lost are installed again.
        self.setup_schedule()


class _Sender:
    """What RedBeat's lock helper expects as the beat service: something with ``.scheduler``."""

    def __init__(self, scheduler: BeatScheduler) -> None:
        self.scheduler = scheduler

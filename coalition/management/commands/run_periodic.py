"""Run the beat schedule in-process: the embedded (no Redis) stand-in for Celery beat.

`make run` starts it beside the development server when REDIS_URL is unset, so queued mail is
retried and decisions close at their deadline without a broker. With Redis, use celery beat.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from coalition.celery import app

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the periodic jobs of CELERY_BEAT_SCHEDULE in this process (embedded mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run every job once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        schedule: dict[str, dict[str, Any]] = settings.CELERY_BEAT_SCHEDULE
        # Import every app's tasks module, as a worker does when it starts.
        app.loader.import_default_modules()
        next_run = dict.fromkeys(schedule, 0.0)
        while True:
            now = time.monotonic()
            for name, entry in schedule.items():
                if options["once"] or now >= next_run[name]:
                    try:
                        app.tasks[entry["task"]].apply()
                    except Exception:
                        logger.exception("periodic job failed", extra={"job": name})
                    next_run[name] = now + float(entry["schedule"])
            if options["once"]:
                return
            time.sleep(1.0)

"""Redis behind Sentinel for Django's cache (COALITION_REDIS_SENTINELS, docs/deploy.md).

Celery's broker and RedBeat speak Sentinel themselves (settings.py builds their URLs); Django's
RedisCache only takes a connection-pool class, whose ``from_url`` it calls with REDIS_URL. This
one asks the sentinels where the master is (and again after a failover), and takes the database
number, user and password from REDIS_URL; its host and port are not used.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from redis.connection import parse_url
from redis.sentinel import Sentinel, SentinelConnectionPool


class SentinelPool(SentinelConnectionPool):
    @classmethod
    def from_url(cls, url: str, **options: Any) -> SentinelPool:
        target = parse_url(url)
        target.pop("host", None)
        target.pop("port", None)
        timeouts: dict[str, Any] = {
            key: options[key]
            for key in ("socket_timeout", "socket_connect_timeout")
            if key in options
        }
        sentinel_kwargs: dict[str, Any] = dict(timeouts)
        if settings.REDIS_SENTINEL_PASSWORD:
            sentinel_kwargs["password"] = settings.REDIS_SENTINEL_PASSWORD
        manager = Sentinel(settings.REDIS_SENTINELS, sentinel_kwargs=sentinel_kwargs, **timeouts)
        return cls(settings.REDIS_SENTINEL_MASTER, manager, **{**target, **options})

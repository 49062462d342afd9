"""Django's Redis cache, with one Redis client object per connection pool instead of one per call.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache operation,
and redis-py 8's constructor fills a case-insensitive table of ~170 response callbacks each time:
~65 µs of CPU per call on this machine, as much as the round trip to Redis itself. A sign POST
makes six cache calls (rate limits, the proof-of-work spend, the page's version token): a
profile of the in-process POST put 15 % of its CPU in these constructors (bench/README.md,
issue 11). A ``redis.Redis`` on a pool is safe to share between threads and holds no connection
of its own (the pool does, and re-creates its connections in a forked process), so one is kept
per pool.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class KeptClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Private to Django's client (not in its type stubs): the pool of a server, made once.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            # Two threads may both build one here; either is fine, and the pools stay Django's.
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient

"""The default cache keeps one Redis client per connection pool (coalition/redis_cache.py)."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from coalition.redis_cache import KeptClientRedisCacheClient, RedisCache


def test_one_client_serves_every_call_and_the_cache_still_works(settings):
    if not settings.REDIS_URL:
        pytest.skip("embedded mode: the default cache is in process memory")
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    client = cache._cache
    assert isinstance(client, KeptClientRedisCacheClient)
    assert client.get_client("a") is client.get_client("b", write=True)
    cache.set("kept-client", {"n": 1}, 30)
    assert cache.add("kept-client", "other", 30) is False
    assert cache.get("kept-client") == {"n": 1}
    cache.delete("kept-client")
    assert cache.get("kept-client") is None


def test_each_pool_gets_its_own_client():
    client = KeptClientRedisCacheClient(["redis://127.0.0.1:6379/8", "redis://127.0.0.1:6379/9"])
    writer = client.get_client(write=True)
    reader = client.get_client()  # with a replica, reads go to the other server
    assert writer is client.get_client(write=True)
    assert reader is not writer
    assert reader.connection_pool is not writer.connection_pool

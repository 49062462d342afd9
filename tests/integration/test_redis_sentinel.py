"""Redis behind Sentinel (COALITION_REDIS_SENTINELS): the cache, the Celery broker, the outbox
relay's marker and beat's lock all find the master through a real sentinel of the test's own."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.integration.conftest import _free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import django, os
os.environ["DJANGO_SETTINGS_MODULE"] = "coalition.settings"
django.setup()
from django.core.cache import cache
from redbeat.schedulers import get_redis
from coalition.celery import app
from outbox import tasks
cache.set("sentinel-check", 42)
assert cache.get("sentinel-check") == 42
with app.connection_for_write() as connection:
    assert connection.as_uri().startswith("sentinel://")
    connection.default_channel.client.ping()
assert tasks._broker_lost_its_data() is True and tasks._broker_lost_its_data() is False
assert get_redis(app).ping()
print("ok")
"""


def test_cache_broker_marker_and_beat_lock_find_the_master_through_sentinel(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    master_port, sentinel_port = _free_port(), _free_port()
    master = subprocess.Popen(  # noqa: S603
        ["redis-server", "--port", str(master_port), "--bind", "127.0.0.1", "--save", "",  # noqa: S607
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\n"
        f"sentinel monitor coalition 127.0.0.1 {master_port} 1\n"
    )
    sentinel = subprocess.Popen(  # noqa: S603
        ["redis-server", str(conf), "--sentinel"],  # noqa: S607
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                found = redis.Redis(port=sentinel_port).sentinel_get_master_addr_by_name(
                    "coalition"
                )
                if found:
                    break
            except redis.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the sentinel did not come up"
            time.sleep(0.2)
        env = {
            "PATH": "/usr/bin:/bin",
            "DJANGO_DEBUG": "1",
            "COALITION_TESTING": "1",
            # The host is not used: the sentinel names the master. The database number is.
            "REDIS_URL": "redis://unused/3",
            "COALITION_REDIS_SENTINELS": f"127.0.0.1:{sentinel_port}",
            "COALITION_REDIS_SENTINEL_MASTER": "coalition",
            "COALITION_VAR_DIR": str(tmp_path / "var"),
        }
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", CHECK],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.stdout.strip().endswith("ok"), result.stderr[-3000:]
        keys = redis.Redis(port=master_port, db=3).keys("*")
        assert b"coalition:outbox:broker-marker" in keys  # written to the master, database 3
    finally:
        for process in (sentinel, master):
            process.kill()
            process.wait(timeout=10)

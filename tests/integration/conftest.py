"""Real services for integration tests: PostgreSQL, Redis, a Celery worker, an SMTP server.

The worker is a separate process started with the test database's name, so it sees what the
test commits (tests here use ``transactional_db``). Without PostgreSQL and Redis the tests
skip, unless COALITION_REQUIRE_SERVICES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _require_services() -> None:
    missing = []
    if connection.vendor != "postgresql":
        missing.append("PostgreSQL (DATABASE_URL)")
    if not settings.REDIS_URL:
        missing.append("Redis (REDIS_URL)")
    if missing:
        message = "integration tests need " + ", ".join(missing)
        if os.environ.get("COALITION_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Inbox:
    """What the loopback SMTP server received; also lets a test make the server refuse."""

    messages: list[Message] = field(default_factory=list)
    refuse_with: str | None = None  # e.g. "451 4.3.0 try again later"

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        if self.refuse_with:
            return self.refuse_with
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"

    def wait_for(
        self, predicate: Callable[[list[Message]], bool], timeout: float = 45.0
    ) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.messages):
                return self.messages
            time.sleep(0.2)
        raise AssertionError(f"SMTP server did not receive the expected mail: {self.messages!r}")


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd's readiness check cannot use port 0 itself
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def celery_worker(
    transactional_db: None, smtp_server: tuple[Inbox, int]
) -> Iterator[subprocess.Popen[bytes]]:
    """A real worker with embedded beat, sending to the loopback SMTP server."""
    _require_services()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    db = connection.settings_dict
    env = {
        **os.environ,
        "COALITION_TESTING": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server[1]),
        "COALITION_SITE_URL": "http://testserver",
        "COALITION_LOG_FORMAT": "plain",
    }
    schedule = Path(tempfile.mkdtemp()) / "beat-schedule"
    log = tempfile.NamedTemporaryFile(prefix="worker-", suffix=".log", delete=False)
    worker = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "coalition",
            "worker",
            "--beat",
            f"--schedule={schedule}",
            "--concurrency=2",
            "--pool=prefork",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        if os.environ.get("COALITION_SHOW_WORKER_LOG"):
            print(Path(log.name).read_text())

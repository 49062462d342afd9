"""Real services for integration tests: PostgreSQL, Redis, a Celery worker, an SMTP server.

The worker is a separate process started with the test database's name, so it sees what the
test commits (tests here use ``transactional_db``). Without PostgreSQL and Redis the tests
skip, unless COALITION_REQUIRE_SERVICES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


@dataclass
class Inbox:
    """What the loopback SMTP server received; also lets a test make the server refuse."""

    messages: list[Message] = field(default_factory=list)
    refuse_with: str | None = None  # e.g. "451 4.3.0 try again later"
    # Per recipient address, e.g. {"gone@x.example": "550 5.1.1 no such user"}: refused at RCPT.
    refuse_recipients: dict[str, str] = field(default_factory=dict)
    # Seconds the server takes to accept each message, so a test can catch a worker mid-batch.
    delay: float = 0.0

    async def handle_RCPT(
        self,
        server: object,
        session: object,
        envelope: object,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self.refuse_recipients.get(address)
        if refusal:
            return refusal
        # What aiosmtpd does itself when a handler has no handle_RCPT.
        envelope.rcpt_tos.append(address)  # type: ignore[attr-defined]
        envelope.rcpt_options.extend(rcpt_options)  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        if self.refuse_with:
            return self.refuse_with
        if self.delay:
            # Cancelled with the connection: a client killed meanwhile never delivered this one.
            await asyncio.sleep(self.delay)
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
    port = _free_port()  # aiosmtpd's readiness check cannot use port 0 itself
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker_env(
    *, redis_url: str, smtp_port: int, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a process of ours on the test database, Redis and SMTP server."""
    db = connection.settings_dict
    return {
        **os.environ,
        "COALITION_TESTING": "1",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "COALITION_SITE_URL": "http://testserver",
        "COALITION_LOG_FORMAT": "plain",
        **(extra_env or {}),
    }


@contextmanager
def run_worker(
    *,
    redis_url: str,
    smtp_port: int,
    extra_env: dict[str, str] | None = None,
    beat: bool = True,
    concurrency: int = 2,
    restart: bool = False,
) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker with embedded beat, on the test database, sending to ``smtp_port``.

    ``extra_env`` overrides settings for the worker only (it reads them from the environment),
    e.g. ``{"COALITION_OUTBOX_STUCK_AFTER_SECONDS": "5"}``. ``beat=False``: no embedded beat
    (the scale-out test runs beat on its own, and gives its web nodes the same ``worker_env``).
    ``restart``: start it again whenever it exits, as the deployment's restart policy does
    (Celery 5.7 ends a worker that loses the broker while it holds an unacknowledged task).
    """
    env = worker_env(redis_url=redis_url, smtp_port=smtp_port, extra_env=extra_env)
    schedule = Path(tempfile.mkdtemp()) / "beat-schedule"
    log = tempfile.NamedTemporaryFile(prefix="worker-", suffix=".log", delete=False)
    args = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "coalition",
        "worker",
        *(["--beat", f"--schedule={schedule}"] if beat else []),
        f"--concurrency={concurrency}",
        "--pool=prefork",
        "--loglevel=INFO",
        "--without-mingle",
        "--without-gossip",
    ]

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603

    worker = start()
    current = [worker]
    done = threading.Event()

    def supervise() -> None:
        while not done.wait(0.5):
            if current[-1].poll() is not None:
                current.append(start())

    supervisor = threading.Thread(target=supervise, daemon=True)
    if restart:
        supervisor.start()
    try:
        yield worker
    finally:
        done.set()
        if restart:
            supervisor.join(timeout=30)  # it may be starting one: stop that one too
        current[-1].terminate()
        try:
            current[-1].wait(timeout=20)
        except subprocess.TimeoutExpired:
            current[-1].kill()
        if os.environ.get("COALITION_SHOW_WORKER_LOG"):
            print(Path(log.name).read_text())


@pytest.fixture
def celery_worker(
    transactional_db: None, smtp_server: tuple[Inbox, int]
) -> Iterator[subprocess.Popen[bytes]]:
    """A real worker with embedded beat, sending to the loopback SMTP server."""
    _require_services()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    with run_worker(redis_url=settings.REDIS_URL, smtp_port=smtp_server[1]) as worker:
        yield worker


class PrivateRedis:
    """A Redis server of the test's own, so a test can stop and restart it."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603
            [  # noqa: S607 - redis-server from the machine's PATH
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=0.2).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        if os.environ.get("COALITION_REQUIRE_SERVICES"):
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()

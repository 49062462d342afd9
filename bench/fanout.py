"""Fan-out: N letters queued as outbox rows, sent by a real Celery worker (embedded beat) to an
SMTP server on loopback; prints letters/s and the end-to-end lag.

    .venv/bin/python bench/fanout.py [--letters 100000 | --quick] [--timeout 900]
        [--variant prefork:2:2000 --variant threads:8:2000 ...] [--no-probe]

A variant is POOL:CONCURRENCY:RELAY_BATCH (the worker's --pool, --concurrency and
COALITION_OUTBOX_RELAY_BATCH), optionally followed by +SETTING=LITERAL what-ifs that only the
worker gets, through an overlay settings module in a temporary directory (no app code changes),
e.g. threads:8:2000+CELERY_DB_REUSE_MAX=1000. Each variant gets a freshly emptied outbox and
Redis db 5.

Creates (and at the end drops) the database coalition_bench_fanout and flushes Redis db 5 before
and after. The letters are bulk-inserted Email rows with the fields outreach.services.letters_send
writes (kind "outreach.letter", "<signer> via Coalition" sender, campaign reply-to, the demo
letter filled per signer and target, a make_msgid Message-ID), encrypted by the model's fields.
Pacing is off: every row is due at once (next_attempt_at = now), so this measures the throughput
of the pipeline (relay -> broker -> outbox_send -> SMTP), not the per-contact pacing that
contact_next_slot would impose in production. No Letter rows are written: sending never reads
them.

The SMTP server (aiosmtpd, a thread of this process) counts connections and messages and records
when each Message-ID arrived. At 10 % and 50 % of the wave a signer's confirmation email is
queued through outbox.services.email_enqueue, to show how long ordinary mail waits behind it.

After the runs a probe (a separate process, worker stopped) times the pieces of one send
serially: SMTP with a new connection per message (what outbox_send does), SMTP over one reused
connection, outbox_send's whole body and its steps, a one-row autocommit UPDATE, and the relay
with and without a backlog of rows already handed to the broker.

smtp_floor() is the floor of a send on this machine: processes that only hand ready-made bytes
to the loopback server, no Django, database or broker; a new connection each, or (reuse=True)
one connection kept, as the batched sending does. After the runs (worker stopped) both floors
are measured with 2 processes and one of the letters, and each run is printed as a ratio to
them (--no-floor skips it). bench/update_fanout.py --send reports its rate the same way.

Everything runs on 127.0.0.1 and shares the machine's cores with PostgreSQL, Redis and whatever
else runs there; the CPU split (including "not ours") is printed so the figures can be read with
that in mind.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common as common
import psycopg
import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

DB_NAME = "coalition_bench_fanout"
DSN = f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}"
# Another Redis (e.g. a redis-server of your own on another port) when db 5 is not yours to flush.
REDIS_URL = os.environ.get("BENCH_FANOUT_REDIS_URL", "redis://127.0.0.1:6379/5")
CELERY = str(common.ROOT / ".venv" / "bin" / "celery")
INSERT_BATCH = 5_000
TARGETS = 20  # each signer writes to this many contacts, as a topic-targeted letter campaign does
CAMPAIGN_TITLE = "A bank account for every legal resident"
CAMPAIGN_REPLY_TO = "replies@coalition.example"
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
PROGRESS_EVERY = 10.0  # seconds between progress lines
SENT_GRACE = 60.0  # after the last letter arrives, how long the rows may take to turn SENT
PROBE_BACKLOG = 20_000  # rows already handed to the broker, for the relay-with-backlog probe
# When this share of the wave has arrived, a signer's confirmation email is queued through
# outbox.services.email_enqueue: how long does ordinary mail wait behind a fan-out?
CANARY_AT = (0.1, 0.5)


# --- the SMTP server ----------------------------------------------------------------------------


class Inbox:
    """What the loopback SMTP server received: arrival time per Message-ID, copies, sessions."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.arrived: dict[str, float] = {}
            self.duplicates = 0
            self.without_id = 0
            self.connections = 0
            self.messages = 0

    def connected(self) -> None:
        with self.lock:
            self.connections += 1

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        now = time.time()
        content: bytes = envelope.content
        headers_end = content.find(b"\r\n\r\n")
        match = MESSAGE_ID.search(content, 0, headers_end if headers_end >= 0 else len(content))
        with self.lock:
            self.messages += 1
            if match is None:
                self.without_id += 1
            else:
                message_id = match.group(1).decode()
                if message_id in self.arrived:
                    self.duplicates += 1
                else:
                    self.arrived[message_id] = now
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return len(self.arrived)


class CountingController(Controller):
    def factory(self) -> SMTP:
        inbox: Inbox = self.handler

        class CountingSMTP(SMTP):
            def connection_made(self, transport: Any) -> None:
                inbox.connected()
                super().connection_made(transport)

        return CountingSMTP(self.handler, **self.SMTP_kwargs)


def smtp_start(inbox: Inbox, port: int) -> CountingController:
    # server_hostname: without it aiosmtpd calls socket.getfqdn() for every connection.
    controller = CountingController(
        inbox, hostname="127.0.0.1", port=port, server_hostname="smtp.bench.localhost"
    )
    controller.start()
    return controller


# --- queueing letters ---------------------------------------------------------------------------


def letters_insert(count: int, *, label: str) -> float:
    """Bulk-insert ``count`` due letters as letters_send would write them; returns seconds."""
    from email.utils import make_msgid

    from django.conf import settings
    from django.utils import timezone

    from outbox.models import Email
    from outreach.demo import LETTER_EN
    from outreach.templating import template_fill

    started = time.perf_counter()
    for start in range(0, count, INSERT_BATCH):
        now = timezone.now()
        rows = []
        for number in range(start, min(count, start + INSERT_BATCH)):
            signer, target = divmod(number, TARGETS)
            values = {
                "signer_name": f"Signer {signer} ({label})",
                "signer_city": "Riga",
                "signer_country": "Latvia",
                "target_name": f"Target {target}",
                "target_title": "Member of the European Parliament",
                "personal_message": "My account was closed in March without explanation.",
                "campaign_title": CAMPAIGN_TITLE,
            }
            rows.append(
                Email(
                    kind="outreach.letter",
                    bulk=True,  # as outreach.services.letters_send queues them
                    to=f"target-{target}@parliament.example",
                    subject=template_fill("{campaign_title}", values),
                    body_text=template_fill(LETTER_EN, values) + "\n",
                    reply_to=CAMPAIGN_REPLY_TO,
                    from_email=f'"{values["signer_name"]} via Coalition" '
                    f"<{settings.OUTREACH_FROM_ADDRESS}>",
                    message_id=make_msgid(domain=settings.OUTBOX_MESSAGE_ID_DOMAIN),
                    next_attempt_at=now,  # pacing off: all due now
                    created_at=now,
                )
            )
        Email.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    return time.perf_counter() - started


def outbox_reset() -> None:
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute("TRUNCATE outbox_email RESTART IDENTITY CASCADE")


def outbox_analyze() -> None:
    # Autovacuum would analyze after a 100,000-row insert within a minute; do it now so the
    # relay's first queries do not run on a plan made for an empty table.
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute("ANALYZE outbox_email")


# --- the worker ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    pool: str
    concurrency: int
    relay_batch: int
    # Settings the worker alone gets (a what-if for a proposed change), e.g.
    # (("CELERY_DB_REUSE_MAX", "1000"),): written to an overlay settings module.
    settings: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> Variant:
        base, *overrides = text.split("+")
        try:
            pool, concurrency, batch = base.split(":")
            settings = tuple(tuple(item.split("=", 1)) for item in overrides)
            for name, value in settings:
                if not name.isupper() or not name.isidentifier():
                    raise ValueError(name)
                ast.literal_eval(value)
            variant = cls(pool, int(concurrency), int(batch), settings)  # type: ignore[arg-type]
        except (ValueError, SyntaxError) as exc:
            message = f"expected POOL:CONCURRENCY:BATCH[+SETTING=LITERAL...], got {text}"
            raise argparse.ArgumentTypeError(message) from exc
        if pool not in {"prefork", "threads", "solo"}:
            raise argparse.ArgumentTypeError(f"unknown pool {pool}")
        return variant

    def __str__(self) -> str:
        extra = "".join(f" +{name}={value}" for name, value in self.settings)
        return f"{self.pool}×{self.concurrency}, relay batch {self.relay_batch}{extra}"


def worker_start(env: dict[str, str], variant: Variant, workdir: Path) -> subprocess.Popen[bytes]:
    worker_env = {**env, "COALITION_OUTBOX_RELAY_BATCH": str(variant.relay_batch)}
    if variant.settings:
        overlay = workdir / "fanout_worker_settings.py"
        overlay.write_text(
            "from coalition.settings import *  # noqa: F403\n"
            + "".join(f"{name} = {value}\n" for name, value in variant.settings)
        )
        worker_env["DJANGO_SETTINGS_MODULE"] = "fanout_worker_settings"
        worker_env["PYTHONPATH"] = f"{workdir}:{common.ROOT}"
    log = (workdir / "worker.log").open("ab")
    return subprocess.Popen(
        [
            CELERY,
            "-A",
            "coalition",
            "worker",
            "--beat",
            f"--schedule={workdir / 'beat-schedule'}",
            f"--pool={variant.pool}",
            f"--concurrency={variant.concurrency}",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=common.ROOT,
        env=worker_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def worker_stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()  # warm shutdown: running tasks finish
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def worker_task_totals() -> dict[str, int]:
    """Tasks the worker executed, by name (remote control `inspect stats`)."""
    from coalition.celery import app

    replies = app.control.inspect(timeout=3.0).stats() or {}
    totals: dict[str, int] = {}
    for stats in replies.values():
        for name, count in stats.get("total", {}).items():
            totals[name] = totals.get(name, 0) + int(count)
    return totals


def redis_pid() -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "redis-server":
                    return int(entry.name)
            except OSError:
                continue
    return None


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


@dataclass
class CpuMeter:
    """CPU seconds per party over one run, sampled at its start and end.

    PostgreSQL and Redis also serve other people's work on this machine: their figures are the
    whole servers' (PostgreSQL's include backends that exited meanwhile, via the postmaster's
    children's time). The benchmark database's own counters (sessions opened, commits) come
    from pg_stat_database.
    """

    start: dict[str, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)
    db_name: str = DB_NAME  # whose pg_stat_database counters to read
    began: float = 0.0
    wall: float = 0.0
    db_start: dict[str, float] = field(default_factory=dict)
    db_spent: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def sample(worker_pids: list[int]) -> dict[str, float]:
        redis_server = redis_pid()
        return {
            "worker": common.cpu_seconds(worker_pids),
            "smtp+bench": own_cpu_seconds(),
            "postgres (all dbs)": common.postgres_cpu_seconds(),
            "redis (all dbs)": common.cpu_seconds([redis_server]) if redis_server else 0.0,
            "machine": common.machine_busy_seconds(),
        }

    def database(self) -> dict[str, float]:
        with psycopg.connect(common.PG_ADMIN_DSN, autocommit=True) as conn:
            row = conn.execute(
                "SELECT sessions, xact_commit, active_time FROM pg_stat_database "
                "WHERE datname = %s",
                [self.db_name],
            ).fetchone()
        assert row is not None
        return {"sessions": row[0], "commits": row[1], "active_ms": row[2]}

    def begin(self, worker_pids: list[int] | None = None) -> None:
        """Start counting; ``worker_pids`` when the worker already runs (else it starts next)."""
        self.db_start = self.database()
        self.start = self.sample(worker_pids or [])
        self.began = time.monotonic()

    def end(self, worker_pids: list[int]) -> None:
        now = self.sample(worker_pids)
        self.wall = time.monotonic() - self.began
        self.spent = {name: now[name] - self.start[name] for name in now}
        ours = sum(value for name, value in self.spent.items() if name != "machine")
        self.spent["not ours"] = max(0.0, self.spent["machine"] - ours)

    def database_end(self) -> None:
        # After the worker stopped: a backend reports its session when it exits.
        time.sleep(1.0)
        now = self.database()
        self.db_spent = {name: now[name] - self.db_start[name] for name in now}


# --- the floor: bare SMTP sends from two processes -------------------------------------------


@dataclass
class Floor:
    """The least a send costs here: processes that only hand ready-made bytes to the loopback
    SMTP server over a new connection each (as outbox_send does), with no Django, no database,
    no broker. No pipeline with as many processes can send faster; its rate is the floor."""

    processes: int
    sent: int
    wall: float  # the longest child's sending time
    cpu: float  # CPU seconds of all children while sending
    received: int  # what the server counted

    @property
    def rate(self) -> float:
        return self.sent / max(self.wall, 1e-9)

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / max(self.sent, 1)


def _floor_child(
    port: int, message: bytes, seconds: float, barrier: Any, results: Any, reuse: bool = False
) -> None:  # pragma: no cover - runs in a spawned process
    import smtplib

    barrier.wait(120)
    sent = 0
    cpu, began = time.process_time(), time.perf_counter()
    kept = smtplib.SMTP("127.0.0.1", port, local_hostname="bench.localhost") if reuse else None
    while time.perf_counter() - began < seconds:
        message_id = f"Message-ID: <floor-{os.getpid()}-{sent}@bench.localhost>".encode()
        data = MESSAGE_ID.sub(message_id, message, count=1)
        if kept is not None:
            kept.sendmail("floor@bench.localhost", ["floor@example.org"], data)
        else:
            with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.localhost") as smtp:
                smtp.sendmail("floor@bench.localhost", ["floor@example.org"], data)
        sent += 1
    if kept is not None:
        kept.quit()
    results.put((sent, time.perf_counter() - began, time.process_time() - cpu))


def smtp_floor(
    inbox: Inbox,
    port: int,
    *,
    message: bytes,
    processes: int = 2,
    seconds: float = 10.0,
    reuse: bool = False,
) -> Floor:
    """Run the floor against the loopback server (reset first); ``message`` must carry a
    Message-ID header, replaced by a fresh one for every send. ``reuse``: each process keeps one
    connection for all its messages (as the batched sending does) instead of one per message."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes + 1)
    results = context.Queue()
    children = [
        context.Process(target=_floor_child, args=(port, message, seconds, barrier, results, reuse))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    inbox.reset()
    barrier.wait(120)  # every child imported and ready: start together
    found = [results.get(timeout=seconds + 120) for _ in children]
    for child in children:
        child.join(timeout=30)
    return Floor(
        processes=processes,
        sent=sum(item[0] for item in found),
        wall=max(item[1] for item in found),
        cpu=sum(item[2] for item in found),
        received=inbox.messages,
    )


# --- one run ------------------------------------------------------------------------------------


@dataclass
class Run:
    variant: Variant
    letters: int
    insert_seconds: float = 0.0
    worker_started: float = 0.0  # time.time()
    complete: bool = False
    stopped_because: str = ""
    timeline: list[tuple[float, int, int]] = field(default_factory=list)  # (t, received, queue)
    canaries: list[tuple[float, str]] = field(default_factory=list)  # (share of wave, Message-ID)
    queue_peak: int = 0
    queue_at_end: int = 0
    task_totals: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    database: dict[str, float] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)


def run_variant(
    *,
    env: dict[str, str],
    variant: Variant,
    letters: int,
    inbox: Inbox,
    broker: redis.Redis,
    timeout: float,
    workdir: Path,
) -> Run:
    from outbox.models import Email

    run = Run(variant=variant, letters=letters)
    print(f"\n== {letters:,} letters, worker {variant}", flush=True)
    outbox_reset()
    broker.flushdb()
    inbox.reset()
    run.insert_seconds = letters_insert(letters, label=f"{variant.pool}{variant.concurrency}")
    outbox_analyze()
    print(
        f"  queued {letters:,} rows in {run.insert_seconds:.1f} s "
        f"({letters / run.insert_seconds:,.0f} rows/s, bulk_create batches of {INSERT_BATCH:,})",
        flush=True,
    )

    meter = CpuMeter()
    meter.begin()
    run.worker_started = time.time()
    worker = worker_start(env, variant, workdir)
    deadline = time.monotonic() + timeout
    next_progress = time.monotonic() + PROGRESS_EVERY
    last_count = 0
    last_arrival_seen = 0.0
    try:
        while True:
            time.sleep(0.5)
            received = inbox.count()
            queue = int(broker.llen("celery")) + int(broker.llen("bulk"))
            run.queue_peak = max(run.queue_peak, queue)
            elapsed = time.time() - run.worker_started
            if received != last_count:
                last_arrival_seen = time.monotonic()
            if time.monotonic() >= next_progress:
                rate = (received - (run.timeline[-1][1] if run.timeline else 0)) / PROGRESS_EVERY
                run.timeline.append((elapsed, received, queue))
                print(
                    f"  +{elapsed:5.0f} s  {received:>7,} received  {rate:6.0f}/s  "
                    f"broker queue {queue:>7,}",
                    flush=True,
                )
                next_progress += PROGRESS_EVERY
            last_count = received
            for share in CANARY_AT[len(run.canaries) :]:
                if received >= share * letters:
                    run.canaries.append((share, canary_enqueue()))
            if worker.poll() is not None:
                run.stopped_because = f"the worker exited ({worker.returncode})"
                break
            expected = letters + len(CANARY_AT)
            if received >= expected:
                sent = Email.objects.filter(status=Email.Status.SENT).count()
                if sent >= expected:
                    run.complete = True
                    break
                if time.monotonic() - last_arrival_seen > SENT_GRACE:
                    run.stopped_because = f"only {sent:,} rows SENT {SENT_GRACE:.0f} s after"
                    break
            if time.monotonic() >= deadline:
                run.stopped_because = f"stopped after {timeout:.0f} s"
                break
        run.queue_at_end = int(broker.llen("celery")) + int(broker.llen("bulk"))
        alive = worker.poll() is None
        meter.end([worker.pid, *common.children(worker.pid)] if alive else [])
        run.cpu = {**meter.spent, "wall": meter.wall}
        if alive:
            run.task_totals = worker_task_totals()
    finally:
        worker_stop(worker)
    meter.database_end()
    run.database = meter.db_spent
    if not run.complete:
        log_tail = (workdir / "worker.log").read_text(errors="replace")[-3000:]
        print(
            f"  INCOMPLETE: {inbox.count():,} of {letters:,} letters received; "
            f"{run.stopped_because}. End of the worker's log:\n{log_tail}",
            flush=True,
        )
    run.results = run_results(run, inbox)
    return run


def canary_enqueue() -> str:
    """A signer's confirmation email, queued the way campaigns.services does; its Message-ID."""
    from django.db import transaction

    from outbox.services import email_enqueue

    with transaction.atomic():
        email = email_enqueue(
            kind="campaigns.confirm",
            to="signer@example.org",
            subject="Please confirm your signature",
            body_text="Confirm your signature: http://127.0.0.1/confirm/x\n",
        )
    return email.message_id


def run_results(run: Run, inbox: Inbox) -> dict[str, Any]:
    from outbox.models import Email

    canaries = []
    for share, message_id in run.canaries:
        canary = Email.objects.get(message_id=message_id)
        arrived = inbox.arrived.get(message_id)
        waited = arrived - canary.created_at.timestamp() if arrived else float("nan")
        canaries.append((share, waited))
    rows = list(
        Email.objects.filter(kind="outreach.letter").values_list(
            "message_id", "created_at", "dispatched_at", "sent_at", "status", "attempts"
        )
    )
    with inbox.lock:
        arrived = dict(inbox.arrived)
        duplicates, without_id = inbox.duplicates, inbox.without_id
        connections, messages = inbox.connections, inbox.messages
    known = {row[0] for row in rows} | {message_id for _share, message_id in run.canaries}
    lag, since_start, broker_wait, marked, times = [], [], [], [], []
    for message_id, created_at, dispatched_at, sent_at, _status, _attempts in rows:
        received = arrived.get(message_id)
        if received is None:
            continue
        times.append(received)
        lag.append(received - created_at.timestamp())
        since_start.append(received - run.worker_started)
        if dispatched_at is not None:
            broker_wait.append(received - dispatched_at.timestamp())
        if sent_at is not None:
            marked.append(sent_at.timestamp() - received)
    times.sort()
    total = len(times)
    steady = float("nan")
    if total >= 10:
        first, last = times[int(total * 0.1)], times[int(total * 0.9) - 1]
        steady = (int(total * 0.9) - int(total * 0.1)) / max(last - first, 1e-9)
    last_created = max((row[1].timestamp() for row in rows), default=run.worker_started)
    return {
        "received": total,
        "first": times[0] - run.worker_started if times else float("nan"),
        "last": times[-1] - run.worker_started if times else float("nan"),
        "rate": total / (times[-1] - run.worker_started) if times else 0.0,
        "steady": steady,
        "lag": sorted(lag),
        "since_start": sorted(since_start),
        "broker_wait": sorted(broker_wait),
        "marked": sorted(marked),
        "queued_before_start": run.worker_started - last_created,
        "duplicates": duplicates,
        "without_id": without_id,
        "unknown": sum(1 for message_id in arrived if message_id not in known),
        "not_sent": Email.objects.exclude(status=Email.Status.SENT).count(),
        "canaries": canaries,
        "retried": sum(1 for row in rows if row[5] > 1),
        "connections": connections,
        "messages": messages,
    }


def _pcts(values: list[float]) -> str:
    if not values:
        return "-"
    return (
        " / ".join(f"{common.percentile(values, q):,.1f}" for q in (0.5, 0.99))
        + f" / {values[-1]:,.1f}"
    )


def run_print(run: Run) -> None:
    r = run.results
    sends = run.task_totals.get("outbox.tasks.outbox_send_batch", 0)
    relays = run.task_totals.get("outbox.tasks.outbox_relay", 0)
    status = "complete" if run.complete else f"INCOMPLETE ({run.stopped_because})"
    lines = [
        ("run", status),
        ("letters queued", f"{run.letters:,} ({run.insert_seconds:.1f} s to insert)"),
        ("worker start -> first letter received", f"{r['first']:.1f} s"),
        ("worker start -> last letter received", f"{r['last']:.1f} s"),
        ("letters/s (all / steady 10-90 %)", f"{r['rate']:,.1f} / {r['steady']:,.1f}"),
        ("lag created -> received  p50/p99/max s", _pcts(r["lag"])),
        ("  of which queued before worker start", f"{r['queued_before_start']:.1f} s (last row)"),
        ("lag worker start -> recv p50/p99/max s", _pcts(r["since_start"])),
        ("relay hand-off -> recv   p50/p99/max s", _pcts(r["broker_wait"])),
        ("recv -> row SENT         p50/p99/max s", _pcts(r["marked"])),
        ("duplicates by Message-ID (must be 0)", f"{r['duplicates']:,}"),
        ("rows not SENT at the end (must be 0)", f"{r['not_sent']:,}"),
        ("rows sent after a retry", f"{r['retried']:,}"),
        ("unknown / no Message-ID", f"{r['unknown']:,} / {r['without_id']:,}"),
        ("SMTP connections / messages", f"{r['connections']:,} / {r['messages']:,}"),
        (
            "tasks run: outbox_send_batch / outbox_relay",
            f"{sends:,} (~{r['messages'] / max(sends, 1):,.0f} messages each) / {relays:,}"
            if run.task_totals
            else "- (worker gone)",
        ),
        ("broker queue peak / left at end", f"{run.queue_peak:,} / {run.queue_at_end:,}"),
    ]
    for share, waited in r["canaries"]:
        lines.append(
            (f"confirmation email queued at {share:.0%} of wave", f"arrived after {waited:,.1f} s")
        )
    if run.database and r["received"]:
        db = run.database
        lines.append(
            (
                "PostgreSQL sessions / commits per letter",
                f"{db['sessions'] / r['received']:.2f} / {db['commits'] / r['received']:.2f} "
                f"({db['sessions']:,.0f} sessions opened, {db['commits']:,.0f} commits)",
            )
        )
    if run.cpu and r["received"]:
        per = {k: 1000 * v / r["received"] for k, v in run.cpu.items()}
        lines.append(
            (
                "CPU ms per letter",
                ", ".join(f"{k} {v:.2f}" for k, v in per.items() if k not in {"machine", "wall"}),
            )
        )
        cores = {k: v / max(run.cpu["wall"], 1e-9) for k, v in run.cpu.items() if k != "wall"}
        lines.append(
            (
                f"cores busy on average (of {os.cpu_count()})",
                ", ".join(f"{k} {v:.2f}" for k, v in cores.items()),
            )
        )
    print(f"\n-- {run.letters:,} letters, worker {run.variant}")
    for label, value in lines:
        print(f"  {label:<42} {value}")


def summary_print(runs: list[Run]) -> None:
    width = max(len(str(run.variant)) for run in runs)
    print("\n== summary (pacing off: pipeline throughput, not per-contact pacing)")
    print(
        f"  {'worker':<{width}} {'letters':>8} {'total s':>8} {'letters/s':>10} {'steady/s':>9} "
        f"{'lag p50':>8} {'lag p99':>8} {'lag max':>8} {'dup':>4} {'unsent':>6}"
    )
    for run in runs:
        r = run.results
        lag = r["lag"]
        print(
            f"  {run.variant!s:<{width}} {r['received']:>8,} {r['last']:>8.1f} {r['rate']:>10.1f} "
            f"{r['steady']:>9.1f} {common.percentile(lag, 0.5):>8.1f} "
            f"{common.percentile(lag, 0.99):>8.1f} {(lag[-1] if lag else float('nan')):>8.1f} "
            f"{r['duplicates']:>4} {r['not_sent']:>6}" + ("" if run.complete else "  INCOMPLETE")
        )


def _sample_letter() -> bytes:
    """One letter as the workers sent it, for the floor."""
    import email.policy

    from outbox.models import Email
    from outbox.services import email_message

    letter = Email.objects.filter(kind="outreach.letter").order_by("pk").first()
    assert letter is not None
    return bytes(email_message(letter).message(policy=email.policy.SMTP).as_bytes())


def floors_print(runs: list[Run], inbox: Inbox, port: int, *, seconds: float) -> None:
    """The bare-SMTP floors, measured now (worker stopped), and each run as a ratio to them."""
    sample = _sample_letter()
    floors = {
        "new connection each": smtp_floor(inbox, port, message=sample, seconds=seconds),
        "one connection kept": smtp_floor(inbox, port, message=sample, seconds=seconds, reuse=True),
    }
    print(
        f"\n== floor: 2 processes, bare SMTP, the same {len(sample):,}-byte letter, {seconds:.0f} s"
    )
    for label, floor in floors.items():
        check = "" if floor.received == floor.sent else f" (server counted {floor.received:,}!)"
        print(
            f"  {label:<22} {floor.sent:>7,} sent = {floor.rate:7.1f}/s, "
            f"CPU {floor.cpu_ms:.2f} ms per message{check}"
        )
    for run in runs:
        r = run.results
        if not r.get("received"):
            continue
        worker_ms = 1000 * run.cpu.get("worker", 0.0) / r["received"]
        print(f"  -- {run.letters:,} letters, worker {run.variant}: {r['rate']:.1f}/s")
        for label, floor in floors.items():
            print(
                f"     RATIO letters/s ÷ floor ({label}): {r['rate'] / floor.rate:.3f} "
                f"(steady {r['steady'] / floor.rate:.3f}); worker CPU per letter ÷ floor CPU: "
                f"{worker_ms / floor.cpu_ms:.1f}x"
            )


# --- the probe: the pieces of one send, timed serially in a separate process --------------------


def probe(count: int) -> dict[str, Any]:
    from django.core.mail import mailers
    from django.db import connection
    from django.db.models import F
    from django.test.utils import override_settings
    from django.utils import timezone

    from outbox.models import Email
    from outbox.services import email_message
    from outbox.tasks import outbox_relay, outbox_send

    results: dict[str, Any] = {"count": count}

    def timed(name: str, body: Any) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        body()
        results[name] = {
            "wall_ms": 1000 * (time.perf_counter() - wall) / count,
            "cpu_ms": 1000 * (time.process_time() - cpu) / count,
        }

    letters_insert(2 * count, label="probe-smtp")
    queued = list(Email.objects.filter(status=Email.Status.QUEUED).order_by("pk")[: 2 * count])
    template, spare = queued[:count], queued[count:]
    # Fresh Message-IDs so the SMTP server's counts of the pipeline run stay meaningful.
    for number, email in enumerate(template):
        email.message_id = f"<probe-{number}-{time.time_ns()}@bench.localhost>"

    def smtp_new_connection_each() -> None:
        for email in template:
            with mailers.default as smtp:  # what outbox_send does, per message
                assert smtp.send_messages([email_message(email)]) == 1

    def smtp_one_connection() -> None:
        with mailers.default as smtp:
            for email in template:
                assert smtp.send_messages([email_message(email)]) == 1

    timed("smtp_new_connection", smtp_new_connection_each)
    timed("smtp_reused_connection", smtp_one_connection)

    ids = [email.pk for email in template]

    def send_task_bodies() -> None:
        for email_id in ids:
            assert outbox_send.run(email_id) == "sent"

    timed("outbox_send_body", send_task_bodies)

    # The same steps as outbox_send's success path, each timed on its own.
    steps = dict.fromkeys(["claim", "load", "build", "smtp", "mark"], 0.0)
    for spare_email in spare:
        marks = [time.perf_counter()]
        now = timezone.now()
        claimed = Email.objects.filter(
            pk=spare_email.pk, status=Email.Status.QUEUED, next_attempt_at__lte=now
        ).update(status=Email.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
        assert claimed == 1
        marks.append(time.perf_counter())
        email = Email.objects.get(pk=spare_email.pk)
        marks.append(time.perf_counter())
        message = email_message(email)  # serialized by the backend: counted in "smtp"
        marks.append(time.perf_counter())
        with mailers.default as smtp:
            assert smtp.send_messages([message]) == 1
        marks.append(time.perf_counter())
        Email.objects.filter(pk=email.pk).update(
            status=Email.Status.SENT, sent_at=timezone.now(), last_error=""
        )
        marks.append(time.perf_counter())
        for name, before, after in zip(steps, marks, marks[1:], strict=False):
            steps[name] += after - before
    results["outbox_send_steps"] = {name: 1000 * total / count for name, total in steps.items()}

    def one_row_commits() -> None:
        # outbox_send commits twice per letter (the claim, then SENT), each on its own.
        for email_id in ids:
            Email.objects.filter(pk=email_id).update(attempts=F("attempts"))

    timed("db_one_row_update", one_row_commits)

    # The relay: claims `count` due rows and publishes one task each (the worker is stopped;
    # the tasks stay in Redis db 5, flushed at the end).
    letters_insert(count, label="probe-relay")
    # The bound on rows in flight would stop the relay behind the backlog: lifted here, where
    # what is timed is the relay's claim and hand-over.
    with override_settings(OUTBOX_RELAY_BATCH=count, OUTBOX_IN_FLIGHT=10**9):
        timed("relay_no_backlog", lambda: _assert_equal(outbox_relay.run(), count))
        # Rows already handed to the broker but not yet sent stay QUEUED with dispatched_at set,
        # in front of new ones in the (status, bulk, next_attempt_at) index the relay walks.
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO outbox_email (kind, "to", recipient_digest, from_email, reply_to,
                    subject, body_text, body_html, message_id, renderer, render_args, bulk,
                    list_scope, list_token, status, attempts, next_attempt_at, dispatched_at,
                    last_error, created_at)
                SELECT kind, "to", recipient_digest, from_email, reply_to, subject, body_text,
                    body_html, 'backlog-' || g || '-' || message_id, renderer, render_args, bulk,
                    list_scope, list_token, 'queued', 0, now() - interval '1 minute', now(), '',
                    now()
                FROM outbox_email, generate_series(1, %s) AS g
                WHERE id = (SELECT min(id) FROM outbox_email)
                """,
                [PROBE_BACKLOG],
            )
            cursor.execute("ANALYZE outbox_email")
        letters_insert(count, label="probe-relay-backlog")
        timed("relay_with_backlog", lambda: _assert_equal(outbox_relay.run(), count))
    results["backlog"] = PROBE_BACKLOG
    return results


def _assert_equal(actual: int, expected: int) -> None:
    assert actual == expected, (actual, expected)


def probe_run(env: dict[str, str], count: int, inbox: Inbox) -> dict[str, Any] | None:
    inbox.reset()
    result = subprocess.run(
        [common.PYTHON, str(Path(__file__).resolve()), "--probe-child", str(count)],
        cwd=common.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        print(f"  probe failed:\n{result.stderr[-3000:]}")
        return None
    found = json.loads(result.stdout.strip().splitlines()[-1])
    found["smtp_connections"] = inbox.connections
    found["smtp_messages"] = inbox.messages
    return found


def probe_print(found: dict[str, Any]) -> None:
    count = found["count"]
    print(f"\n== probe: the pieces of one send, serial, one process, {count:,} messages each")
    labels = {
        "smtp_new_connection": "SMTP, new connection per message (as now)",
        "smtp_reused_connection": "SMTP, one connection for all messages",
        "outbox_send_body": "outbox_send body (claim, load, SMTP, mark)",
        "db_one_row_update": "one-row UPDATE, autocommit (outbox_send does 2)",
        "relay_no_backlog": "outbox_relay, per row handed over",
        "relay_with_backlog": f"  same behind {found['backlog']:,} rows already in the broker",
    }
    print(f"  {'':<46} {'wall ms':>8} {'CPU ms':>7} {'per s':>7}")
    for key, label in labels.items():
        wall, cpu = found[key]["wall_ms"], found[key]["cpu_ms"]
        print(f"  {label:<46} {wall:>8.2f} {cpu:>7.2f} {1000 / wall:>7.0f}")
    steps = found["outbox_send_steps"]
    print(
        "  outbox_send steps, wall ms: "
        + ", ".join(f"{name} {value:.2f}" for name, value in steps.items())
        + f" (sum {sum(steps.values()):.2f})"
    )
    print(
        f"  SMTP connections / messages seen by the server: "
        f"{found['smtp_connections']:,} / {found['smtp_messages']:,}"
    )


# --- main ---------------------------------------------------------------------------------------


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(common.ROOT))
    import django

    django.setup()


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(f"signal {signum}: cleaning up")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="5,000 letters: a smoke run")
    parser.add_argument(
        "--variant",
        type=Variant.parse,
        action="append",
        help="POOL:CONCURRENCY:RELAY_BATCH, repeatable (default prefork:2:2000)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per variant")
    parser.add_argument("--no-probe", action="store_true")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--floor-seconds", type=float, default=10.0)
    parser.add_argument("--probe-count", type=int, default=1_000)
    parser.add_argument("--probe-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.probe_child:
        # Run by probe_run() with the parent's environment, against the parent's SMTP server.
        django_setup(dict(os.environ))
        print(json.dumps(probe(args.probe_child)))
        return 0

    letters = 5_000 if args.quick else args.letters
    variants: list[Variant] = args.variant or [Variant("prefork", 2, 2000)]
    signal.signal(signal.SIGTERM, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    smtp_port = common.free_port()
    env = common.bench_env(
        db_name=DB_NAME,
        var_dir=workdir / "var",
        extra={
            "REDIS_URL": REDIS_URL,
            "COALITION_TESTING": "1",
            "COALITION_CACHE_PREFIX": "bench-fanout",
            "COALITION_LOG_LEVEL": "WARNING",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
        },
    )
    django_setup(env)
    broker = redis.Redis.from_url(REDIS_URL)
    inbox = Inbox()
    controller: CountingController | None = None
    runs: list[Run] = []
    print(
        f"fan-out benchmark: {letters:,} letters per variant; pacing off (every row due now): "
        f"this measures the pipeline's throughput, not per-contact pacing.\n"
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
        f"PostgreSQL, Redis, SMTP server and worker all on this machine.",
        flush=True,
    )
    try:
        broker.flushdb()
        common.database_recreate(DB_NAME)
        common.manage(env, "migrate", "--noinput")
        controller = smtp_start(inbox, smtp_port)
        for variant in variants:
            run = run_variant(
                env=env,
                variant=variant,
                letters=letters,
                inbox=inbox,
                broker=broker,
                timeout=args.timeout,
                workdir=workdir,
            )
            runs.append(run)
            run_print(run)
        if len(runs) > 1:
            summary_print(runs)
        if runs and not args.no_floor:
            floors_print(runs, inbox, smtp_port, seconds=args.floor_seconds)
        if not args.no_probe:
            found = probe_run(env, args.probe_count, inbox)
            if found:
                probe_print(found)
    finally:
        if controller is not None:
            controller.stop()
        from django.db import connections

        connections.close_all()
        common.database_drop(DB_NAME)
        broker.flushdb()
        shutil.rmtree(workdir, ignore_errors=True)
        print("\ncleaned up: worker stopped, SMTP stopped, database dropped, Redis db 5 flushed")
    failed = [
        run
        for run in runs
        if not run.complete or run.results["duplicates"] or run.results["not_sent"]
    ]
    return 1 if failed or not runs else 0


if __name__ == "__main__":
    sys.exit(main())

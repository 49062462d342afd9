"""Shared pieces of the benchmarks: throwaway databases, a production-like environment, gunicorn,
per-process CPU accounting and percentiles. Everything talks to 127.0.0.1 only."""

from __future__ import annotations

import base64
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
HZ = os.sysconf("SC_CLK_TCK")


def database_url(name: str) -> str:
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def database_recreate(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        # FORCE: a previous run killed halfway may still hold connections to it.
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def bench_env(
    *, db_name: str, var_dir: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Production settings (DEBUG off, manifest static files, JSON logs) on plain local HTTP."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COALITION_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "coalition.settings",
            "DATABASE_URL": database_url(db_name),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-throwaway-" + secrets.token_urlsafe(40),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "REDIS_URL": "redis://127.0.0.1:6379/14",
            "COALITION_CACHE_PREFIX": "bench",
            "COALITION_RATELIMIT_ENABLE": "0",
            "COALITION_LOG_LEVEL": "WARNING",
            # Production mode encrypts signers' personal data (foundation/crypto.py): a throwaway
            # Fernet key, as production would set its own.
            "COALITION_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            # Static files are collected here, not into the project's own var/.
            "COALITION_VAR_DIR": str(var_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def manage(env: dict[str, str], *args: str) -> None:
    started = time.perf_counter()
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"manage.py {' '.join(args)} failed ({result.returncode})")
    print(f"  manage.py {' '.join(args)}: {time.perf_counter() - started:.1f} s", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Gunicorn:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: workers finish, then exit
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def gunicorn_start(
    env: dict[str, str], *, workers: int, log: Path, ready_path: str, extra: Sequence[str] = ()
) -> Gunicorn:
    port = free_port()
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            GUNICORN,
            "coalition.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    server = Gunicorn(process=process, port=port, log=log)
    # Each worker imports the whole project when it boots: under a load average of 8-10 on the
    # shared two cores that took longer than 30 s (2026-11-30).
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited early:\n{log.read_text()[-4000:]}")
        if _answers(port, ready_path) and len(server.worker_pids()) >= workers:
            return server
        time.sleep(0.2)
    server.stop()
    raise SystemExit(f"gunicorn did not answer {ready_path}:\n{log.read_text()[-4000:]}")


def _answers(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def cpu_seconds(pids: Iterable[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / HZ


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def postgres_cpu_seconds() -> float:
    """CPU of every postgres process, including backends that ended since (via their parent)."""
    total = 0.0
    for pid in postgres_pids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime: the postmaster's children's time includes ended backends.
        total += sum(int(f) for f in fields[11:15])
    return total / HZ


def proc_status_kib(pid: int, field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle (other people's processes included)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / HZ

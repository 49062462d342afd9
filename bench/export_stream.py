"""Supporter export: stream 1,000,000 consenting supporters as CSV; rows/s and peak memory.

    .venv/bin/python bench/export_stream.py [--rows 1000000] [--skip-http] [--skip-inprocess]
                                            [--profile ROWS] [--gunicorn-timeout 300]
                                            [--database NAME] [--redis-url URL]

Creates (and at the end drops) the database coalition_bench_export (or --database) with one
live campaign, two co-sponsors and --rows confirmed signatures, all consenting to the first
co-sponsor, loaded with PostgreSQL COPY. Then it downloads the real export view
(supporters_export) as an admin of that organization, twice, after a floor:

- the floor: the export's own queries and rows read by a bare ``COPY ... TO STDOUT`` in a fresh
  process and thrown away (no decryption, no CSV, no view): the CPU a row costs a client at all,
  measured in the same run, so the worker's CPU per row is also printed as a ratio to it;
- in-process, in a fresh Python process, through Django's test Client, consuming
  ``response.streaming_content``: tracemalloc peak and the ru_maxrss high-water mark;
- over HTTP from one gunicorn sync worker in production mode: VmHWM of that worker, rows/s,
  time to the first row, the PostgreSQL backend's temporary files, and the CPU split between
  the worker and PostgreSQL;
- with --profile ROWS, where the view's CPU goes (cProfile, in-process, that many rows).

Target: the process serving the export peaks under 100 MiB.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _common as common

DB_NAME = "coalition_bench_export"
TARGET_PEAK_MIB = 100.0
GUNICORN_DEFAULT_TIMEOUT = 30  # what the Dockerfile's gunicorn runs with (no --timeout given)
COUNTRIES = ["DE", "LV", "LT", "EE", "PL", "CZ", "FI", "NL", "FR", "GE"]
CITIES = ["Berlin", "Riga", "", "Vilnius", "Tallinn", "", "Warsaw", "Prague", "", "Tbilisi"]
NAMES = ["Anna Petrova", "Ivan Smirnov", "Olga Ivanova", "Dmitry Kuznetsov", "Maria Popova"]
SIGNATURE_COLUMNS = [
    "id",
    "petition_id",
    "name",
    "email",
    "email_digest",
    "country",
    "city",
    "display",
    "source_id",
    "status",
    "created_at",
    "confirmed_at",
    "reminders_sent",
    "last_mailed_at",
    "language",
    "wants_updates",
]
CHUNK = 50_000
WORDS_EN = (
    "we ask the commission to ensure that banks respect right of residents legal account "
    "payment directive people who live here need clear rules and fair treatment every member "
    "state must apply law as written without discrimination by passport or place of birth"
).split()
WORDS_RU = (
    "мы просим комиссию обеспечить чтобы банки соблюдали право жителей на базовый платёжный "
    "счёт людям живущим здесь нужны ясные правила и справедливое отношение каждое государство "
    "должно применять закон как он написан без дискриминации по паспорту или месту рождения"
).split()


# --- run inside Django (subprocesses started with the bench environment) ----------------------


def _django() -> None:
    sys.path.insert(0, str(common.ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")
    import django

    django.setup()


def _petition_text(words: list[str], chars: int, seed: int) -> str:
    """Plain prose-like text of about ``chars`` characters (not trivially compressible)."""
    rng = random.Random(seed)
    text = ""
    while len(text) < chars:
        text += " ".join(rng.choice(words) for _ in range(12)).capitalize() + ". "
    return text[:chars].strip()


def seed(rows: int, text_chars: int) -> dict[str, Any]:
    """Campaign and co-sponsors through the services; the signatures themselves by COPY."""
    _django()
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.db import connection, transaction

    from campaigns import services
    from campaigns.models import IssueArea, Petition
    from members import demo
    from members.models import Organization, User

    started = time.perf_counter()
    demo.seed()  # fictional member organizations, each with an admin
    first, second = Organization.objects.filter(status="member").order_by("pk")[:2]

    def admin(org: Organization) -> User:
        return org.memberships.get(role="admin").user

    campaign = services.campaign_create(
        organization=first,
        user=admin(first),
        issue_area=IssueArea.objects.order_by("pk")[0],
        title_en="Export benchmark campaign",
        summary_en="A campaign with a million supporters, for the export benchmark.",
    )
    invitation = services.cosponsor_invite(
        campaign=campaign, organization=first, invitee=second, user=admin(first)
    )
    services.cosponsor_respond(cosponsorship=invitation, user=admin(second), accept=True)
    petition = services.petition_create(
        campaign=campaign,
        organization=first,
        user=admin(first),
        title_en="Export benchmark petition",
        title_ru="Петиция для замера выгрузки",
        # A petition's text is shown to signers in both languages; real ones run to thousands of
        # characters. Its size matters here: the export query joins the petition to every row.
        text_en=_petition_text(WORDS_EN, text_chars, 1),
        text_ru=_petition_text(WORDS_RU, text_chars, 2),
        addressed_to="Benchmarks",
        goal=rows,
    )
    services.campaign_go_live(campaign=campaign, organization=first, user=admin(first))
    # Organization admins must have two-factor sign-in before acting; give this one a TOTP.
    TOTP.activate(admin(first), generate_totp_secret())
    print(f"  campaign, co-sponsors, petition via services: {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    _check_columns(connection)
    # Values go in as the model would store them (encrypted, if the field encrypts). Names and
    # cities repeat, so each distinct one is prepared once; every address is its own.
    prepare = _preparer(connection)
    names = [prepare("name", name) for name in NAMES]
    cities = [prepare("city", city) for city in CITIES]
    per_country: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor: COPY goes under the ORM
        # The rows are valid by construction; skip the per-row foreign-key triggers during load.
        raw.execute("SET LOCAL session_replication_role = replica")
        raw.execute("SELECT nextval(pg_get_serial_sequence('campaigns_signature', 'id'))")
        first_id = int(raw.fetchone()[0])
        base_time = datetime.now(UTC) - timedelta(days=30)
        with raw.copy(f"COPY campaigns_signature ({', '.join(SIGNATURE_COLUMNS)}) FROM STDIN") as c:
            for start in range(0, rows, CHUNK):
                lines = []
                for n in range(start, min(rows, start + CHUNK)):
                    country = COUNTRIES[n % len(COUNTRIES)]
                    per_country[country] = per_country.get(country, 0) + 1
                    created = (base_time + timedelta(seconds=n)).isoformat()
                    confirmed = (base_time + timedelta(seconds=n + 600)).isoformat()
                    # A unique 64-hex digest per row, like the keyed hash of a real address.
                    digest = hashlib.sha256(b"bench-export:%d" % n).hexdigest()
                    lines.append(
                        f"{first_id + n}\t{petition.pk}\t{names[n % len(names)]}\t"
                        f"{prepare('email', f'supporter-{n}@example.org')}\t{digest}\t{country}\t"
                        f"{cities[n % len(cities)]}\tanonymous\t\\N\tconfirmed\t{created}\t"
                        f"{confirmed}\t0\t{created}\ten\t{'t' if n % 3 == 0 else 'f'}\n"
                    )
                c.write("".join(lines))
        raw.execute(
            "SELECT setval(pg_get_serial_sequence('campaigns_signature', 'id'), %s)",
            (first_id + rows,),
        )
        with raw.copy(
            "COPY campaigns_supporterconsent (signature_id, organization_id) FROM STDIN"
        ) as c:
            for start in range(0, rows, CHUNK):
                end = min(rows, start + CHUNK)
                c.write("".join(f"{first_id + n}\t{first.pk}\n" for n in range(start, end)))
        raw.executemany(
            "INSERT INTO campaigns_petitioncountrycount (petition_id, country, count) "
            "VALUES (%s, %s, %s)",
            [(petition.pk, country, count) for country, count in per_country.items()],
        )
        Petition.objects.filter(pk=petition.pk).update(confirmed_count=rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_signature")
        cursor.execute("ANALYZE campaigns_supporterconsent")
    print(
        f"  {rows:,} signatures + consents by COPY, then ANALYZE: "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return {
        "url": f"/organizations/{first.slug}/campaigns/{campaign.slug}/supporters.csv",
        "user_id": admin(first).pk,
        "campaign_id": campaign.pk,
        "organization_id": first.pk,
    }


def _preparer(connection: Any) -> Any:
    from campaigns.models import Signature

    fields = {name: Signature._meta.get_field(name) for name in ("name", "email", "city")}

    def prepare(column: str, value: str) -> str:
        prepared = fields[column].get_db_prep_save(value, connection)
        text = str(prepared)
        # COPY's text format: these would need escaping, and no value here should contain them.
        assert not any(c in text for c in "\t\n\\"), f"unexpected character in {column}"
        return text

    return prepare


def _check_columns(connection: Any) -> None:
    """Fail clearly if someone added a required column this loader does not fill."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'campaigns_signature' AND is_nullable = 'NO' AND column_default IS NULL"
        )
        missing = {row[0] for row in cursor.fetchall()} - set(SIGNATURE_COLUMNS)
    if missing:
        raise SystemExit(f"campaigns_signature has new required columns: {sorted(missing)}")


def session_cookie(user_id: int) -> str:
    """A logged-in session for the HTTP run, stored in the database gunicorn reads."""
    _django()
    from django.conf import settings
    from django.test import Client

    from members.models import User

    client = Client()
    client.force_login(User.objects.get(pk=user_id))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def measure_inprocess(url: str, user_id: int, limit: int) -> dict[str, float]:
    _django()
    from django.test import Client

    from members.models import User

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(pk=user_id))
    client.get("/campaigns/")  # warm: middleware, URL resolver, templates
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    first_row, lines, size = 0.0, 0, 0
    for chunk in response.streaming_content:  # type: ignore[attr-defined]
        lines += chunk.count(b"\n")
        if not first_row and lines >= 2:
            first_row = time.perf_counter() - started
        size += len(chunk)
        if limit and lines > limit:
            break  # the stream is in its steady state long before; tracemalloc is slow
    response.close()
    elapsed = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": lines - 1,
        "bytes": size,
        "seconds": elapsed,
        "first_row": first_row,
        "tracemalloc_peak_mib": peak / 2**20,
        "maxrss_before_mib": rss_before / 1024,
        "maxrss_after_mib": rss_after / 1024,
    }


def measure_profile(url: str, user_id: int, limit: int) -> dict[str, Any]:
    """Where the export view's CPU goes: the first ``limit`` rows through the test Client under
    cProfile (no tracemalloc), the top functions by their own time printed."""
    _django()
    import cProfile
    import pstats

    from django.test import Client

    from members.models import User

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(pk=user_id))
    client.get("/campaigns/")
    profile = cProfile.Profile()
    started = time.process_time()
    profile.enable()
    response = client.get(url)
    lines = 0
    for chunk in response.streaming_content:  # type: ignore[attr-defined]
        lines += chunk.count(b"\n")
        if limit and lines > limit:
            break
    response.close()
    profile.disable()
    cpu = time.process_time() - started
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(18)
    return {"rows": lines - 1, "cpu_s": cpu}


def measure_floor(campaign_id: int, organization_id: int) -> dict[str, float]:
    """The floor for the export's worker CPU: the export's own query and rows, read by a bare
    ``COPY ... TO STDOUT`` in a fresh process and thrown away (no decryption, no CSV, no view)."""
    _django()
    from django.db import connection, transaction

    from campaigns import selectors
    from campaigns.models import Campaign
    from members.models import Organization

    campaign = Campaign.objects.get(pk=campaign_id)
    organization = Organization.objects.get(pk=organization_id)
    queries = selectors.supporter_export_queries(campaign=campaign, organization=organization)
    rows, first_row = 0, 0.0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SET LOCAL jit = off")  # as the export's own transaction
        postgres_before = common.postgres_cpu_seconds()
        cpu_before, started = time.process_time(), time.perf_counter()
        for _slug, sql, params in queries:
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
                for _data in copy:
                    rows += 1
                    if rows == 1:
                        first_row = time.perf_counter() - started
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        postgres_cpu = common.postgres_cpu_seconds() - postgres_before
    return {
        "rows": rows,
        "seconds": elapsed,
        "first_row": first_row,
        "cpu_s": cpu,
        "postgres_cpu_s": postgres_cpu,
    }


# --- the orchestrator (no Django here, so its own memory does not matter) -----------------------


def _subcommand(env: dict[str, str], *args: str) -> Any:
    result = subprocess.run(
        [common.PYTHON, __file__, *args], cwd=common.ROOT, env=env, capture_output=True, text=True
    )
    sys.stdout.write("".join(f"{line}\n" for line in result.stdout.splitlines()[:-1]))
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-6000:])
        raise SystemExit(f"{args[0]} failed ({result.returncode})")
    return json.loads(result.stdout.splitlines()[-1])


def measure_http(
    env: dict[str, str],
    url: str,
    cookie: str,
    workdir: Path,
    *,
    timeout: int,
    limit_seconds: float,
) -> dict[str, Any]:
    extra = ["--timeout", str(timeout)]
    server = common.gunicorn_start(
        env,
        workers=1,
        log=workdir / "gunicorn.log",
        ready_path="/campaigns/",
        extra=extra,
    )
    try:
        (worker,) = server.worker_pids()
        hwm_before = common.proc_status_kib(worker, "VmHWM")
        rss_before = common.proc_status_kib(worker, "VmRSS")
        # VmRSS counts the shared libraries every process of the app maps (psycopg's libpq,
        # OpenSSL, cryptography, ...); RssAnon is the worker's own heap, which the export grows.
        anon_before = common.proc_status_kib(worker, "RssAnon")
        file_before = common.proc_status_kib(worker, "RssFile")
        cpu_before = common.cpu_seconds([worker]), common.postgres_cpu_seconds()
        temp_files = _TempFiles()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout + 30)
        started = time.perf_counter()
        connection.request("GET", url, headers={"Cookie": cookie})
        response = connection.getresponse()
        status = response.status
        if status != 200:
            body = response.read(2000).decode(errors="replace")
            log = server.log.read_text(errors="replace")[-2000:]
            raise SystemExit(f"{url} answered {status}:\n{body}\n--- gunicorn log ---\n{log}")
        digest = hashlib.sha256()
        lines, size, rss_peak, anon_peak, first_row = 0, 0, rss_before, anon_before, 0.0
        truncated = stopped = False
        last_sample = 0.0
        while True:
            try:
                chunk = response.read1(256 * 1024)
            except http.client.IncompleteRead:
                truncated = True  # the worker was killed mid-stream
                break
            if not chunk:
                break
            lines += chunk.count(b"\n")
            size += len(chunk)
            digest.update(chunk)
            if not first_row and lines >= 2:  # the header line, then the first supporter
                first_row = time.perf_counter() - started
            if time.perf_counter() - last_sample > 0.25:
                last_sample = time.perf_counter()
                temp_files.sample()
                try:
                    rss_peak = max(rss_peak, common.proc_status_kib(worker, "VmRSS"))
                    anon_peak = max(anon_peak, common.proc_status_kib(worker, "RssAnon"))
                except OSError:
                    pass
            if limit_seconds and time.perf_counter() - started > limit_seconds:
                stopped = True  # keeps the benchmark bounded; the rate so far is the figure
                break
        elapsed = time.perf_counter() - started
        try:
            hwm_after = common.proc_status_kib(worker, "VmHWM")
            worker_cpu = common.cpu_seconds([worker]) - cpu_before[0]
        except OSError:
            hwm_after, worker_cpu, truncated = 0, float("nan"), True
        postgres_cpu = common.postgres_cpu_seconds() - cpu_before[1]
        connection.close()
    finally:
        server.stop()
    killed = "WORKER TIMEOUT" in server.log.read_text(errors="replace")
    return {
        "status": status,
        "rows": lines - 1,
        "bytes": size,
        "seconds": elapsed,
        "first_row": first_row,
        "temp_mib": temp_files.peak / 2**20,
        "hwm_before_mib": hwm_before / 1024,
        "hwm_after_mib": hwm_after / 1024,
        "rss_before_mib": rss_before / 1024,
        "rss_sampled_peak_mib": rss_peak / 1024,
        "anon_before_mib": anon_before / 1024,
        "anon_sampled_peak_mib": anon_peak / 1024,
        "file_before_mib": file_before / 1024,
        "worker_cpu_s": worker_cpu,
        "postgres_cpu_s": postgres_cpu,
        "truncated": truncated or killed,
        "stopped": stopped,
        "sha256": digest.hexdigest(),
    }


class _TempFiles:
    """Peak size of the temporary files of the PostgreSQL backend serving the export.

    Sampled from the data directory (pgsql_tmp<pid>.*): pg_stat_database.temp_bytes is only
    updated when a file is removed and may be published late, or never if the backend exits.
    """

    def __init__(self) -> None:
        import psycopg

        self.peak = 0
        self.pid: int | None = None
        with psycopg.connect(common.PG_ADMIN_DSN) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        self.directory = Path(str(row[0]) if row else "/nonexistent") / "base" / "pgsql_tmp"

    def sample(self) -> None:
        if self.pid is None:
            import psycopg

            with psycopg.connect(common.PG_ADMIN_DSN) as conn:
                row = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s "
                    "AND backend_type = 'client backend' ORDER BY backend_start LIMIT 1",
                    (DB_NAME,),
                ).fetchone()
            self.pid = int(row[0]) if row else None
        if self.pid is None:
            return
        size = 0
        for path in self.directory.glob(f"pgsql_tmp{self.pid}.*"):
            try:
                size += path.stat().st_size
            except OSError:
                continue  # removed meanwhile
        self.peak = max(self.peak, size)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    global DB_NAME  # one run, one database; _TempFiles looks it up
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--petition-text-chars",
        type=int,
        default=1000,
        help="length of the petition's English and Russian texts (the model allows 10,000)",
    )
    parser.add_argument("--skip-inprocess", action="store_true")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="ROWS",
        help="also profile the view in-process (cProfile) over this many rows; 0: no profile",
    )
    parser.add_argument(
        "--inprocess-rows",
        type=int,
        default=20_000,
        help="rows read in the in-process run, where tracemalloc slows Python down; the "
        "stream reaches its steady state within the first chunk of 2,000 (0: all)",
    )
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--http-seconds",
        type=float,
        default=100.0,
        help="stop reading an HTTP download after this long and report the rate so far "
        "(0: read it all)",
    )
    parser.add_argument(
        "--gunicorn-timeout",
        type=int,
        default=300,
        help=f"worker timeout for the HTTP run (production uses gunicorn's default, "
        f"{GUNICORN_DEFAULT_TIMEOUT} s: pass {GUNICORN_DEFAULT_TIMEOUT} to see what it does)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--database",
        default=DB_NAME,
        help="name of the throwaway database (dropped and created; give each concurrent run "
        "its own)",
    )
    parser.add_argument("--redis-url", default="", help="Redis for the app (default: db 14)")
    args = parser.parse_args()

    DB_NAME = args.database
    workdir = Path(tempfile.mkdtemp(prefix="coalition-bench-export-"))
    extra = {"REDIS_URL": args.redis_url} if args.redis_url else None
    env = common.bench_env(db_name=DB_NAME, var_dir=workdir / "var", extra=extra)
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores, shared machine)")
    print(
        f"Setting up {DB_NAME} with {args.rows:,} consenting supporters; petition text "
        f"{args.petition_text_chars:,} characters in each language ...",
        flush=True,
    )
    common.database_recreate(DB_NAME)
    try:
        common.manage(env, "migrate", "--noinput")
        common.manage(env, "collectstatic", "--noinput")
        seeded = _subcommand(env, "_seed", str(args.rows), str(args.petition_text_chars))
        url, user_id = seeded["url"], seeded["user_id"]
        results: dict[str, dict[str, Any]] = {}
        print("\nFloor: the same rows by a bare COPY TO STDOUT, thrown away ...", flush=True)
        ids = (str(seeded["campaign_id"]), str(seeded["organization_id"]))
        results["floor"] = _subcommand(env, "_floor", *ids)
        if not args.skip_inprocess:
            print(
                f"\nIn-process (test Client, streaming_content, tracemalloc on), first "
                f"{args.inprocess_rows or args.rows:,} rows ...",
                flush=True,
            )
            results["in-process"] = _subcommand(
                env, "_inprocess", url, str(user_id), str(args.inprocess_rows)
            )
        if args.profile:
            print(f"\nProfile (cProfile, in-process), first {args.profile:,} rows ...", flush=True)
            profiled = _subcommand(env, "_profile", url, str(user_id), str(args.profile))
            print(
                f"  {profiled['rows']:,} rows, {profiled['cpu_s'] / profiled['rows'] * 1e6:.1f} µs "
                "of CPU a row under the profiler",
                flush=True,
            )
        if not args.skip_http:
            print(
                f"\nHTTP: gunicorn -w 1 (sync), --timeout {args.gunicorn_timeout} ...", flush=True
            )
            cookie = _subcommand(env, "_session", str(user_id))["cookie"]
            limits = {"timeout": args.gunicorn_timeout, "limit_seconds": args.http_seconds}
            results["http"] = measure_http(env, url, cookie, workdir, **limits)
        _report(args.rows, results)
    finally:
        if not args.keep:
            common.database_drop(DB_NAME)
        shutil.rmtree(workdir, ignore_errors=True)


def _report(expected: int, results: dict[str, dict[str, Any]]) -> None:
    print("\nrun          rows       seconds  rows/s     first row  MiB of CSV")
    for name, r in results.items():
        print(
            f"{name:<12} {r['rows']:>9,} {r['seconds']:9.1f} {r['rows'] / r['seconds']:8.0f}"
            f" {r['first_row'] * 1000:9.0f} ms {r.get('bytes', 0) / 2**20:9.1f}"
            + ("  (stopped at the time limit)" if r.get("stopped") else "")
        )
    floor = results.get("floor")
    floor_us = floor["cpu_s"] / max(1, floor["rows"]) * 1e6 if floor else 0.0
    if floor:
        print(
            f"\nfloor (bare COPY of the same rows, no decryption or CSV): CPU per row: reader "
            f"{floor_us:.2f} µs, PostgreSQL (whole server) "
            f"{floor['postgres_cpu_s'] / max(1, floor['rows']) * 1e6:.2f} µs"
        )
    inprocess = results.get("in-process")
    if inprocess:
        print(
            f"\nin-process: tracemalloc peak {inprocess['tracemalloc_peak_mib']:.1f} MiB; "
            f"ru_maxrss {inprocess['maxrss_before_mib']:.1f} MiB before the request, "
            f"{inprocess['maxrss_after_mib']:.1f} MiB after "
            f"(+{inprocess['maxrss_after_mib'] - inprocess['maxrss_before_mib']:.1f} MiB)"
        )
    for name in ("http",):
        r = results.get(name)
        if not r:
            continue
        rows = max(1, r["rows"])
        print(
            f"{name}: worker VmHWM {r['hwm_before_mib']:.1f} MiB before, "
            f"{r['hwm_after_mib']:.1f} MiB after (+{r['hwm_after_mib'] - r['hwm_before_mib']:.1f}"
            f" MiB), of which shared libraries and other file-backed pages "
            f"{r['file_before_mib']:.1f} MiB; private memory (RssAnon, sampled every 0.25 s) "
            f"{r['anon_before_mib']:.1f} MiB before, peak {r['anon_sampled_peak_mib']:.1f} MiB; "
            f"CPU per row: worker {r['worker_cpu_s'] / rows * 1e6:.0f} µs, PostgreSQL "
            f"(whole server) {r['postgres_cpu_s'] / rows * 1e6:.0f} µs; its PostgreSQL backend's "
            f"temporary files peaked at {r['temp_mib']:.0f} MiB"
        )
        if floor_us:
            worker_us = r["worker_cpu_s"] / rows * 1e6
            print(
                f"  worker CPU per row {worker_us:.1f} µs = {worker_us / floor_us:.1f}x the "
                f"floor's {floor_us:.2f} µs; at 100,000 rows/s a row may cost 10 µs"
            )
        projected = expected * r["seconds"] / rows
        if projected > GUNICORN_DEFAULT_TIMEOUT:
            print(
                f"  {'projected: ' if r['stopped'] else ''}all {expected:,} rows take "
                f"{projected:.0f} s, more than gunicorn's default worker timeout "
                f"({GUNICORN_DEFAULT_TIMEOUT} s), which would kill the worker mid-download; the "
                "Dockerfile runs gunicorn with --timeout 600 for this reason"
            )
        if r["truncated"]:
            print("  the download was cut short (worker killed or connection dropped)")
    print(f"\ntargets (peak under {TARGET_PEAK_MIB:g} MiB)")
    for name in ("http",):
        r = results.get(name)
        if not r:
            continue
        peak = r["hwm_after_mib"]
        line = (
            f"  {name}: gunicorn worker VmHWM {peak:.1f} MiB  {_verdict(peak < TARGET_PEAK_MIB)}"
            f" (the export added {peak - r['hwm_before_mib']:.1f} MiB)"
        )
        if r["stopped"]:
            line += f";  all {expected:,} rows: not read (time limit)"
        else:
            complete = r["rows"] == expected and not r["truncated"]
            line += f";  all {expected:,} rows delivered: {_verdict(complete)}"
        print(line)
        anon = r["anon_sampled_peak_mib"]
        print(
            f"  {name}: the worker's private memory (RssAnon) peak {anon:.1f} MiB  "
            f"{_verdict(anon < TARGET_PEAK_MIB)} (shared libraries excluded)"
        )
    if inprocess:
        # This process also carries the test Client and tracemalloc's own bookkeeping, so its
        # absolute high-water mark is shown for information; the export's share is the delta.
        added = inprocess["maxrss_after_mib"] - inprocess["maxrss_before_mib"]
        print(
            f"  in-process, memory the export added: ru_maxrss +{added:.1f} MiB, tracemalloc peak "
            f"{inprocess['tracemalloc_peak_mib']:.1f} MiB  {_verdict(added < TARGET_PEAK_MIB)} "
            f"(absolute ru_maxrss {inprocess['maxrss_after_mib']:.1f} MiB, tracemalloc included)"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        command, rest = sys.argv[1], sys.argv[2:]
        if command == "_seed":
            out: Any = seed(int(rest[0]), int(rest[1]))
        elif command == "_floor":
            out = measure_floor(int(rest[0]), int(rest[1]))
        elif command == "_profile":
            out = measure_profile(rest[0], int(rest[1]), int(rest[2]))
        elif command == "_inprocess":
            out = measure_inprocess(rest[0], int(rest[1]), int(rest[2]))
        else:
            out = {"cookie": session_cookie(int(rest[0]))}
        print(json.dumps(out), flush=True)
    else:
        main()

"""PostgreSQL restarts while people sign: clients get 503, every acknowledged signature is kept.

The test runs a PostgreSQL cluster of its own (initdb into a temporary directory, on a free
port: the machine's shared server is never touched), the site under gunicorn in production mode
on it, and signers posting to the API from threads while the cluster is restarted with
`pg_ctl restart -m fast`, which ends every connection, the ones mid-transaction included. Then,
with the cluster stopped, every kind of request must still get a 503 rather than a 500.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from campaigns.signing import email_digest
from tests.integration.conftest import _free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SIGNERS = 4  # client threads; gunicorn has two workers, so both are always busy
ACKED_BEFORE = 20  # signatures acknowledged before the restart...
ACKED_AFTER = 20  # ...and after it, so the site demonstrably recovered
PHASE_TIMEOUT = 25.0  # seconds; the whole test stays well under 90 s

SEED = """
from campaigns import services
from campaigns.models import IssueArea
from tests.factories import MemberOrganizationFactory, make_admin

area, _new = IssueArea.objects.get_or_create(
    slug="bank-accounts", defaults={"name_en": "Bank accounts and payments"}
)
orgs = [MemberOrganizationFactory(name=name) for name in ("Alpha Aid", "Beta Bridge")]
admins = [make_admin(org) for org in orgs]
campaign = services.campaign_create(
    organization=orgs[0], user=admins[0], issue_area=area, title_en="Bank accounts for all",
    summary_en="Everyone legally resident deserves an account.", body_en="Banks must comply.",
)
invitation = services.cosponsor_invite(
    campaign=campaign, organization=orgs[0], invitee=orgs[1], user=admins[0]
)
services.cosponsor_respond(cosponsorship=invitation, user=admins[1], accept=True)
petition = services.petition_create(
    campaign=campaign, organization=orgs[0], user=admins[0], title_en="Keep our accounts open",
    text_en="We ask the Commission to act.", addressed_to="European Commission", goal=100,
)
services.campaign_go_live(campaign=campaign, organization=orgs[1], user=admins[1])
print("slug=" + petition.slug)
"""


def _pg_bin() -> Path | None:
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    # Debian keeps the server binaries out of PATH, one directory per major version.
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster: trust auth, loopback only, a free port, its own socket."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.port = _free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/coalition"
        # initdb refuses to run as root: the cluster then belongs to the postgres account.
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.started = False

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(  # noqa: S603
            [*self.as_owner, str(self.bin_dir / tool), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def init(self) -> None:
        if self.as_owner:
            shutil.chown(self.root, user="postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        # Also in the configuration, not only on pg_ctl's command line: a start without options
        # must never fall back to the default port, which the machine's shared server uses.
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
            )

    def start(self) -> None:
        options = f"-k {self.root} -h 127.0.0.1 -p {self.port}"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30",
                  "-o", options, "start")  # fmt: skip
        self.started = True

    def ensure_running(self) -> None:
        if not self.started:
            self.start()

    def restart(self) -> None:
        # Fast: open transactions are rolled back and every connection is closed. The log file
        # again: without it the new postmaster would hold on to our captured stdout.
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w",
                  "-t", "30", "restart")  # fmt: skip

    def stop(self) -> None:
        if not self.started:
            return
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "20", "stop")
        except subprocess.SubprocessError:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.started = False

    def connect(self, dbname: str = "coalition") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True
        )

    def started_at(self) -> object:
        with self.connect() as conn:
            return conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]


@dataclass
class Site:
    pg: PrivatePostgres
    base_url: str
    slug: str
    hash_key: str
    log: Path


# One site for the module: setting it up (initdb, migrate, seed, gunicorn) is most of the time.
# Each test puts the cluster in the state it needs, so their order does not matter.
@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    bin_dir = _pg_bin()
    missing = [] if bin_dir and (bin_dir / "pg_ctl").exists() else ["PostgreSQL server binaries"]
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing.append("runuser (initdb refuses to run as root)")
    if missing:
        message = "the restart test needs " + ", ".join(missing)
        if os.environ.get("COALITION_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="pg-restart-"))
    pg = PrivatePostgres(bin_dir, root)
    secret = secrets.token_urlsafe(32)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "EMAIL_HOST", "EMAIL_BACKEND"}
    }
    env |= {
        "DATABASE_URL": pg.url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secret,
        "COALITION_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "COALITION_RATELIMIT_ENABLE": "0",
        "COALITION_VAR_DIR": str(root / "var"),
        # No Redis: tasks run in-process. Production mode would send that mail to an SMTP server
        # on localhost:25; keep it in memory, the mail is not what this test is about.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "COALITION_LOG_FORMAT": "plain",
    }
    gunicorn: subprocess.Popen[bytes] | None = None
    log = root / "gunicorn.log"
    try:
        pg.init()
        pg.start()
        with pg.connect("postgres") as conn:
            conn.execute("CREATE DATABASE coalition")
        setup_env = {**env, "COALITION_TESTING": "1"}
        manage = [str(BIN / "python"), "manage.py"]
        subprocess.run(  # noqa: S603
            [*manage, "migrate", "--noinput", "-v", "0"],
            cwd=ROOT, env=setup_env, check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        seeded = subprocess.run(  # noqa: S603
            [*manage, "shell", "--no-imports", "-c", SEED],
            cwd=ROOT, env=setup_env, check=True, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        slug = seeded.stdout.strip().splitlines()[-1].removeprefix("slug=")
        port = _free_port()
        with log.open("wb") as output:
            gunicorn = subprocess.Popen(  # noqa: S603
                [
                    str(BIN / "gunicorn"), "coalition.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
                    "--no-control-socket", "--timeout", "30", "--graceful-timeout", "5",
                ],
                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            )  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        _wait_for(lambda: _get(f"{base_url}/api/v1/petitions/{slug}")[0] == 200, gunicorn)
        yield Site(pg, base_url, slug, secret, log)
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=15)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
                gunicorn.wait(timeout=5)
        try:
            pg.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


def _wait_for(ready: Callable[[], bool], gunicorn: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if gunicorn.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {gunicorn.returncode}")
        try:
            if ready():
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not serve the petition in time")


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def _post_json(
    url: str, body: dict[str, str], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@dataclass
class Attempt:
    email: str
    sent_at: float
    status: int  # 0: no HTTP answer at all
    content_type: str = ""
    retry_after: str = ""
    error: str = ""


@dataclass
class Signers:
    """Threads signing with a new address each time, until told to stop."""

    url: str
    attempts: list[Attempt] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, thread: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            email = f"signer-{thread}-{n}@example.org"
            sent_at = time.monotonic()
            body = {"name": "Test Signer", "email": email, "country": "DE", "display": "anonymous"}
            try:
                status, headers = _post_json(self.url, body)
                attempt = Attempt(
                    email,
                    sent_at,
                    status,
                    headers.get("Content-Type", ""),
                    headers.get("Retry-After", ""),
                )
            except OSError as exc:
                attempt = Attempt(email, sent_at, 0, error=repr(exc))
            with self.lock:
                self.attempts.append(attempt)
            if attempt.status != 202:
                time.sleep(0.05)  # a real client would wait Retry-After; don't spin

    def acked_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for a in self.attempts if a.status == 202 and a.sent_at >= moment)


def _wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PHASE_TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_restarting_postgres_while_signing_answers_503_and_keeps_every_acknowledged_signature(
    site,
):
    site.pg.ensure_running()
    signers = Signers(_signatures_url(site))
    threads = [threading.Thread(target=signers.run, args=(i,), daemon=True) for i in range(SIGNERS)]
    began = time.monotonic()
    first_start = site.pg.started_at()
    for thread in threads:
        thread.start()
    try:
        _wait_until(lambda: signers.acked_since(began) >= ACKED_BEFORE, "signatures before")
        restart_began = time.monotonic()
        site.pg.restart()
        restarted = time.monotonic()
        _wait_until(lambda: signers.acked_since(restarted) >= ACKED_AFTER, "signatures after")
    finally:
        signers.stop.set()
        for thread in threads:
            thread.join(timeout=20)
    assert site.pg.started_at() != first_start  # the cluster really went down and came back

    attempts = signers.attempts
    statuses = Counter(a.status for a in attempts)
    acked = [a.email for a in attempts if a.status == 202]
    with site.pg.connect() as conn:
        stored = Counter(
            row[0]
            for row in conn.execute(
                "SELECT s.email_digest FROM campaigns_signature s JOIN campaigns_petition p "
                "ON p.id = s.petition_id WHERE p.slug = %s",
                [site.slug],
            )
        )
    with override_settings(HASH_KEY=site.hash_key):  # the site's key (its secret key)
        digest_of = {a.email: email_digest(a.email) for a in attempts}
    unacked_kept = [a.email for a in attempts if a.status != 202 and stored[digest_of[a.email]]]
    print(
        f"\n{len(attempts)} requests: {statuses[202]} x 202, {statuses[503]} x 503 "
        f"(restart took {restarted - restart_began:.2f} s), other: "
        f"{ {s: n for s, n in statuses.items() if s not in (202, 503)} }; "
        f"{sum(stored.values())} signatures stored, {len(unacked_kept)} of them not acknowledged"
    )

    assert statuses[500] == 0, site.log.read_text()[-4000:]
    assert set(statuses) <= {202, 503}, [a for a in attempts if a.status not in (202, 503)]
    for attempt in attempts:
        if attempt.status == 503:
            assert attempt.content_type == "application/problem+json"
            assert attempt.retry_after.isdigit()
    # Every acknowledged signature was committed, exactly once; nothing appeared from nowhere.
    assert [email for email in acked if stored[digest_of[email]] != 1] == []
    assert set(stored) <= set(digest_of.values())
    assert sum(stored.values()) == len(acked) + len(unacked_kept)


def _signatures_url(site: Site) -> str:
    return f"{site.base_url}/api/v1/petitions/{site.slug}/signatures"


LATE = {"name": "Late Signer", "email": "late@example.org", "country": "DE", "display": "full"}
# Any session key: the session is looked up in the database before anyone knows it is unknown.
SESSION_COOKIE = {"Cookie": "sessionid=" + "x" * 32}


def _assert_unavailable(status: int, headers: dict[str, str], content_type: str, log: Path) -> None:
    assert (status, headers.get("Content-Type")) == (503, content_type), log.read_text()[-3000:]
    assert headers["Retry-After"].isdigit()


def test_while_postgres_is_down_the_api_and_the_pages_answer_503(site):
    site.pg.stop()
    status, headers = _post_json(_signatures_url(site), LATE)
    _assert_unavailable(status, headers, "application/problem+json", site.log)
    status, headers = _get(f"{site.base_url}/petitions/{site.slug}/")
    _assert_unavailable(status, headers, "text/html; charset=utf-8", site.log)


def test_while_postgres_is_down_visitors_with_a_session_cookie_get_503_too(site):
    site.pg.stop()
    status, headers = _get(f"{site.base_url}/petitions/{site.slug}/", SESSION_COOKIE)
    _assert_unavailable(status, headers, "text/html; charset=utf-8", site.log)
    status, headers = _post_json(_signatures_url(site), LATE, SESSION_COOKIE)
    _assert_unavailable(status, headers, "application/problem+json", site.log)

"""Scale out: two web nodes, three workers and two beat schedulers on one PostgreSQL and Redis.

Everything is a real process of its own: gunicorn twice (Django's PostgreSQL pool on), three
Celery workers, two ``celery beat`` (celery-redbeat: one holds the lock in Redis and sends the
periodic jobs, the other waits), a Redis server of the test's own and SMTP on loopback. Signers
sign on both web nodes and confirm on both; a decision falls due; a wave of bulk mail goes out;
the active beat is killed mid-wave and the other takes over. Meanwhile every periodic job that
matters (relay, count fold, sweeps, retention, decisions) is also published by hand, several
times at once, as a second beat that did not wait for the lock would. Afterwards: every count is
exact, the decision was closed once, and every message arrived exactly once (no worker crashed,
so the documented bound, one extra copy per crashed worker process, allows none).
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from django.utils import timezone

from campaigns.models import Petition, Signature
from members.models import Decision, Organization
from members.services import organization_apply, organization_screen
from outbox.models import Email
from outbox.services import email_enqueue
from tests.campaigns.conftest import issue_area_make, live_campaign_make
from tests.factories import UserFactory
from tests.integration.conftest import (
    _free_port,
    _require_services,
    run_worker,
    wait_until,
    worker_env,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SIGNERS = 24
WAVE = 300
# Each node as production runs it: the pool on, a short lock so the stand-by beat takes over in
# seconds, not the default 30.
NODE_ENV = {
    "COALITION_DB_POOL": "1",
    "COALITION_BEAT_LOCK_TIMEOUT": "8",
    "COALITION_RATELIMIT_ENABLE": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
    "DJANGO_SECURE_SSL_REDIRECT": "0",
    "COALITION_OUTBOX_SEND_BATCH": "20",
}
PERIODIC = [
    "outbox.tasks.outbox_relay",
    "outbox.tasks.outbox_sweep",
    "campaigns.tasks.signature_counts_fold",
    "members.tasks.decisions_close_due",
    "privacy.tasks.retention_purge",
]


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603
            args, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _web_node(
    env: dict[str, str], log: Path
) -> tuple[str, AbstractContextManager[subprocess.Popen[bytes]]]:
    port = _free_port()
    args = [str(BIN / "gunicorn"), "coalition.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}",
            "--no-control-socket", "--timeout", "60"]  # fmt: skip
    return f"http://127.0.0.1:{port}", _process(args, env, log)


def _beat(env: dict[str, str], log: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    schedule = Path(tempfile.mkdtemp()) / "schedule"  # unused: RedBeat keeps it in Redis
    args = [str(BIN / "celery"), "-A", "coalition", "beat", "--loglevel=INFO",
            f"--schedule={schedule}"]  # fmt: skip
    return _process(args, env, log)


def _request(
    opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None, **headers: str
) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - loopback
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _confirm(base_url: str, path: str) -> int:
    """What a signer does with the link: open the page, press confirm (CSRF and all)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    status, page = _request(opener, base_url + path)
    assert status == 200, page[:500]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1)}).encode()
    status, _page = _request(opener, base_url + path, body, Referer=base_url + path)
    return status


def _beat_sends(log: Path) -> list[float]:
    """When a beat sent periodic jobs (epoch seconds), from its log."""
    times = []
    for line in log.read_text(errors="replace").splitlines():
        if "Sending due task" in line:
            stamp = line.split(",", 1)[0]
            times.append(time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")))
    return times


def test_two_web_nodes_three_workers_and_two_beats_count_exactly_and_send_each_mail_once(
    transactional_db, smtp_server, private_redis, tmp_path
):
    _require_services()
    inbox, smtp_port = smtp_server
    live = live_campaign_make(issue_area_make())
    # A decision that falls due during the run: closed once, one mail per organization.
    applicant = organization_apply(
        user=UserFactory(),
        name="Scale Applicant",
        country_of_registration="FI",
        countries_of_operation=["FI"],
        website="https://scale.example.org/",
        mission="Help in Finland.",
        languages=["en"],
        legal_status="ngo",
        funding_disclosure="None.",
        contact_email="applicant@example.org",
    )
    organization_screen(organization=applicant, by=UserFactory(is_staff=True), admit=True)
    # The closing notice goes to every member organization and to the applicant, once each.
    notified = Organization.objects.filter(status=Organization.Status.MEMBER).count() + 1
    env = worker_env(redis_url=private_redis.url, smtp_port=smtp_port, extra_env=NODE_ENV)
    # Not the current app: later tests in this process would send their tasks to this Redis.
    by_hand = Celery("by-hand", broker=private_redis.url, set_as_current=False)
    beat_logs = [tmp_path / "beat-a.log", tmp_path / "beat-b.log"]

    def publish_periodic_jobs(times: int) -> None:
        """What a second beat that ignored the lock would add: each job again, at once."""
        for _ in range(times):
            for name in PERIODIC:
                by_hand.send_task(name, queue="celery")

    with ExitStack() as stack:
        nodes = []
        for n in range(2):
            url, node = _web_node(env, tmp_path / f"web-{n}.log")
            stack.enter_context(node)
            nodes.append(url)
        for _n in range(3):
            stack.enter_context(
                run_worker(
                    redis_url=private_redis.url,
                    smtp_port=smtp_port,
                    extra_env=NODE_ENV,
                    beat=False,
                    concurrency=1,
                )
            )
        beats = [stack.enter_context(_beat(env, log)) for log in beat_logs]
        api = f"/api/v1/petitions/{live.petition.slug}/signatures"
        opener = urllib.request.build_opener()
        wait_until(lambda: _up(opener, nodes), timeout=240)

        # Signers sign on both nodes.
        for n in range(SIGNERS):
            name = f"Signer {chr(ord('A') + n)}"  # names take no digits
            body = {"name": name, "email": f"signer{n}@example.org", "country": "DE",
                    "display": "anonymous"}  # fmt: skip
            status, answer = _request(
                opener, nodes[n % 2] + api, json.dumps(body).encode(),
                **{"Content-Type": "application/json"},
            )  # fmt: skip
            assert status == 202, answer[:500]
        publish_periodic_jobs(3)
        messages = inbox.wait_for(
            lambda msgs: sum(1 for m in msgs if str(m["To"]).startswith("signer")) >= SIGNERS,
            timeout=240,
        )
        # ...and confirm on the other node than the one they signed on.
        for message in [m for m in messages if str(m["To"]).startswith("signer")]:
            n = int(re.search(r"signer(\d+)@", str(message["To"])).group(1))
            link = re.search(r"https?://testserver(/signatures/confirm/\S+/)", _text(message))
            assert link is not None
            assert _confirm(nodes[(n + 1) % 2], link.group(1)) == 302

        # The decision falls due, and a wave of bulk mail goes out.
        Decision.objects.filter(organization=applicant).update(
            deadline=timezone.now() - timedelta(seconds=1)
        )
        wave = [
            email_enqueue(
                kind="outreach.letter",
                to=f"office{n:03d}@gov.example",
                subject="A letter",
                body_text="Please act.\n",
                bulk=True,
            ).pk
            for n in range(WAVE)
        ]
        publish_periodic_jobs(3)
        inbox.wait_for(lambda msgs: len(msgs) >= 60, timeout=240)  # the wave is under way
        # The active beat dies without releasing its lock; the other takes over on expiry.
        active = max(range(2), key=lambda i: len(_beat_sends(beat_logs[i])))
        assert _beat_sends(beat_logs[active]), "no beat sent any periodic job"
        assert not _beat_sends(beat_logs[1 - active]), "both beats sent periodic jobs"
        beats[active].send_signal(signal.SIGKILL)
        killed_at = time.time()
        publish_periodic_jobs(3)
        wait_until(
            lambda: (
                not Email.objects.filter(pk__in=wave).exclude(status=Email.Status.SENT).exists()
            ),
            timeout=400,
        )
        # Counts are folded by the periodic job: exact, whoever ran it and however often.
        wait_until(
            lambda: Petition.objects.get(pk=live.petition.pk).confirmed_count == SIGNERS,
            timeout=120,
        )
        wait_until(
            lambda: (
                Email.objects.filter(kind="members.decision_closed", status="sent").count()
                >= notified
            ),
            timeout=180,
        )
        # The stand-by takes the lock when the dead one's expires (CELERY_REDBEAT_LOCK_TIMEOUT)
        # and then sends what is due: on a fast run the wave is done before that.
        wait_until(lambda: bool(_beat_sends(beat_logs[1 - active])), timeout=180)
        publish_periodic_jobs(3)
        time.sleep(5)  # room for any double run to show

    assert (
        Signature.objects.filter(petition=live.petition, status=Signature.Status.CONFIRMED).count()
        == SIGNERS
    )
    assert Petition.objects.get(pk=live.petition.pk).confirmed_count == SIGNERS
    decision = Decision.objects.get(organization=applicant)
    assert decision.status == Decision.Status.CLOSED
    closing = list(Email.objects.filter(kind="members.decision_closed"))
    assert len(closing) == notified == len({row.to for row in closing})  # closed once
    standby = _beat_sends(beat_logs[1 - active])
    assert standby, "the stand-by beat never took over"
    assert min(standby) >= killed_at - 1  # it waited for the lock, never ran beside the other
    rows = list(Email.objects.exclude(status=Email.Status.CANCELLED))
    assert {row.status for row in rows} == {Email.Status.SENT}
    arrivals = Counter(str(m["Message-ID"]).strip() for m in inbox.messages)
    assert set(arrivals) == {row.message_id for row in rows}
    assert set(arrivals.values()) == {1}  # nothing sent twice
    print(
        f"{len(rows)} messages, each once; {SIGNERS} signatures counted; stand-by beat took "
        f"over {min(standby) - killed_at:.0f} s after the kill"
    )


def _up(opener: urllib.request.OpenerDirector, nodes: list[str]) -> bool:
    try:
        return all(_request(opener, url + "/healthz")[0] in {200, 503} for url in nodes)
    except OSError:
        return False


def _text(message: object) -> str:
    part = message.get_payload(0) if message.is_multipart() else message  # type: ignore[attr-defined]
    return part.get_payload(decode=True).decode()

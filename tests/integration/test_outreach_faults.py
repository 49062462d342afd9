"""Fault tests for signers' letters with the real services (PostgreSQL, Redis, Celery, SMTP).

Whatever breaks (the worker is killed mid-batch, the SMTP server answers 4xx for a while or
5xx for one recipient, the broker goes away with letters queued), afterwards every letter is
delivered exactly once or recorded as failed with a reason: none is lost, none is sent twice.
The one documented exception: a worker killed after the SMTP server accepted a message but
before the row was marked sent re-sends that message once (same Message-ID) after the sweep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from campaigns.models import Signature
from outbox.models import Email
from outbox.tasks import outbox_sweep
from outreach.models import Contact, LetterCampaign
from outreach.services import letters_send
from tests.integration.conftest import Inbox, _require_services, run_worker, wait_until
from tests.outreach import conftest as outreach

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The letter campaign, its contacts and confirmed signers (fixtures live in that folder's conftest).
contacts = outreach.contacts
letters = outreach.letters
confirmed = outreach.confirmed

# The worker reads settings from its environment only: retries and the stuck-row threshold in
# seconds instead of minutes, so each scenario plays out in a few seconds.
FAST = {
    "COALITION_OUTBOX_STUCK_AFTER_SECONDS": "5",
    "COALITION_OUTBOX_RETRY_BASE_SECONDS": "1",
    # A live batch keeps its claimed rows SENDING until it reaches them: it must give the rest
    # back long before the sweep takes a SENDING row for a dead worker's (in production 20 s
    # against at least 120 s). With the default 20 s against 5 s, the sweep re-queued rows a
    # live batch was still going to send, and they arrived twice though no worker had died.
    "COALITION_OUTBOX_BATCH_SECONDS": "1",
}
SETTLED = [Email.Status.SENT, Email.Status.FAILED]


@pytest.fixture
def broker(transactional_db: None) -> Iterator[str]:
    """The shared test broker, empty before and after (a killed worker leaves unacked tasks)."""
    _require_services()
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    try:
        yield settings.REDIS_URL
    finally:
        client.flushdb()


def _queue_letters(
    letter_campaign: LetterCampaign,
    make_signer: Callable[..., Signature],
    *,
    signers: int,
    extra_targets: int,
) -> list[int]:
    """Letters from ``signers`` confirmed signers to 2 + ``extra_targets`` contacts; their ids."""
    for i in range(extra_targets):
        Contact.objects.create(
            name=f"Office {i:02d}",
            email=f"office{i:02d}@gov.example",
            institution=Contact.Institution.NATIONAL,
            kind=Contact.Kind.OFFICE,
            country="BE",
            topics=["banking"],
        )
    for i in range(signers):
        letters_send(
            letter_campaign=letter_campaign,
            signature=make_signer(email=f"signer{i:03d}@example.org"),
            personal_message="Please act.",
        )
    # Pacing would spread these over hours; what is under test here is the faults.
    Email.objects.filter(kind="outreach.letter").update(next_attempt_at=timezone.now())
    # The signers' confirmation mails are not under test: keep them out of the inbox.
    Email.objects.exclude(kind="outreach.letter").update(status=Email.Status.CANCELLED)
    ids = list(Email.objects.filter(kind="outreach.letter").values_list("pk", flat=True))
    assert len(ids) == signers * (2 + extra_targets)
    return ids


def _arrivals(inbox: Inbox) -> Counter[str]:
    """How many times each Message-ID reached the SMTP server."""
    return Counter(str(message["Message-ID"]).strip() for message in list(inbox.messages))


def _wait_settled(ids: list[int], timeout: float, sweep_every: float | None = None) -> None:
    """Until every row is sent or failed; optionally publishing the sweep as beat would.

    Beat runs the sweep once a minute (not configurable); publishing it through the broker
    meanwhile runs the same task in the same worker, only sooner. It is safe to run twice.
    """
    deadline = time.monotonic() + timeout
    last_sweep = 0.0
    while Email.objects.filter(pk__in=ids).exclude(status__in=SETTLED).exists():
        if time.monotonic() > deadline:
            left = Email.objects.filter(pk__in=ids).exclude(status__in=SETTLED)
            raise AssertionError(f"not settled: {list(left.values('pk', 'status', 'attempts'))}")
        if sweep_every is not None and time.monotonic() - last_sweep > sweep_every:
            outbox_sweep.delay()
            last_sweep = time.monotonic()
        time.sleep(0.2)


# --- the worker's process tree -----------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses: the fields after the last ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


def _tree_signal(worker: subprocess.Popen[bytes], signum: int) -> list[int]:
    """Signal the worker, its prefork children and its beat process; only this worker's tree."""
    # The parent first: once it is stopped it cannot fork replacements for the children.
    os.kill(worker.pid, signum)
    pids, i = [worker.pid], 0
    while i < len(pids):
        pids.extend(_children(pids[i]))
        i += 1
    for pid in pids[1:]:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    return pids


def _kill_mid_send(worker: subprocess.Popen[bytes], settle: float) -> set[int]:
    """SIGKILL the whole worker at a moment some row is SENDING; those rows' ids.

    The tree is frozen first so the SENDING rows counted are exactly those at the kill, and
    ``settle`` lets the SMTP server finish accepting what it was given meanwhile: a crash
    after the hand-off, before the row is marked sent, the worst moment there is.
    """
    for _attempt in range(20):
        pids = _tree_signal(worker, signal.SIGSTOP)
        time.sleep(settle)
        if Email.objects.filter(status=Email.Status.SENDING).exists():
            break
        _tree_signal(worker, signal.SIGCONT)
        time.sleep(0.05)
    else:
        raise AssertionError("never caught the worker with a row SENDING")
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.wait(timeout=10)
    wait_until(lambda: not any(_alive(pid) for pid in pids), timeout=10)
    return set(Email.objects.filter(status=Email.Status.SENDING).values_list("pk", flat=True))


# --- the scenarios -----------------------------------------------------------------------------


def test_worker_killed_mid_batch_loses_no_letter_and_resends_at_most_the_ones_in_flight(
    broker, smtp_server, letters, confirmed
):
    inbox, smtp_port = smtp_server
    inbox.delay = 0.1  # slow enough that the kill lands mid-batch, with sends in flight
    ids = _queue_letters(letters, confirmed, signers=10, extra_targets=18)
    with run_worker(redis_url=broker, smtp_port=smtp_port, extra_env=FAST) as worker:
        inbox.wait_for(lambda msgs: len(msgs) >= 50)
        in_flight = _kill_mid_send(worker, settle=inbox.delay * 4)
    at_kill = len(inbox.messages)
    assert in_flight  # the crash happened mid-send: the sweep has work to do
    assert at_kill < len(ids)  # and mid-batch: the second worker has work to do too

    with run_worker(redis_url=broker, smtp_port=smtp_port, extra_env=FAST):
        _wait_settled(ids, timeout=90, sweep_every=2)

    rows = {row.pk: row for row in Email.objects.filter(pk__in=ids)}
    assert {row.status for row in rows.values()} == {Email.Status.SENT}  # none lost, none failed
    arrivals = _arrivals(inbox)
    assert all(arrivals[row.message_id] >= 1 for row in rows.values())
    duplicated = {pk for pk, row in rows.items() if arrivals[row.message_id] > 1}
    print(
        f"worker killed after {at_kill} of {len(ids)} arrived; "
        f"duplicates: {sum(arrivals[rows[pk].message_id] - 1 for pk in duplicated)} "
        f"of {len(ids)}, bound {len(in_flight)}"
    )
    # Only a row caught SENDING may arrive twice, and only twice: the documented bound.
    assert duplicated <= in_flight
    assert all(arrivals[rows[pk].message_id] == 2 for pk in duplicated)
    assert set(arrivals) == {row.message_id for row in rows.values()}  # nothing else was sent


def test_smtp_refusing_with_451_for_a_while_delays_letters_but_sends_each_once(
    broker, smtp_server, letters, confirmed
):
    inbox, smtp_port = smtp_server
    inbox.refuse_with = "451 4.3.0 try again later"
    ids = _queue_letters(letters, confirmed, signers=2, extra_targets=8)
    letters_qs = Email.objects.filter(pk__in=ids)
    with run_worker(redis_url=broker, smtp_port=smtp_port, extra_env=FAST):
        # Every letter refused at least once, and some retried and refused again.
        wait_until(
            lambda: (
                letters_qs.filter(last_error__contains="SMTP 451").count() == len(ids)
                and letters_qs.filter(attempts__gte=2).exists()
            ),
            timeout=45,
        )
        assert not letters_qs.filter(status__in=SETTLED).exists()  # deferred, not given up
        assert inbox.messages == []
        inbox.refuse_with = None  # the server is back
        _wait_settled(ids, timeout=60)

    rows = list(letters_qs)
    assert {row.status for row in rows} == {Email.Status.SENT}
    assert all(row.attempts >= 2 and row.last_error == "" for row in rows)
    arrivals = _arrivals(inbox)
    assert {row.message_id for row in rows} == set(arrivals)
    assert set(arrivals.values()) == {1}  # no letter twice


def test_smtp_550_for_one_recipient_fails_those_letters_with_the_reason_and_marks_it_bouncing(
    broker, smtp_server, letters, confirmed, contacts
):
    inbox, smtp_port = smtp_server
    gone = contacts[1]
    inbox.refuse_recipients = {gone.email: "550 5.1.1 no such user"}
    ids = _queue_letters(letters, confirmed, signers=3, extra_targets=2)
    with run_worker(redis_url=broker, smtp_port=smtp_port, extra_env=FAST):
        _wait_settled(ids, timeout=60)

    # Recipients are encrypted at rest (a fresh nonce each time): compare them in Python.
    rows = list(Email.objects.filter(pk__in=ids))
    to_gone = [row for row in rows if row.to == gone.email]
    assert len(to_gone) == 3
    for row in to_gone:
        assert row.status == Email.Status.FAILED
        assert row.sent_at is None
        assert "550" in row.last_error and "no such user" in row.last_error
        assert row.attempts == 1  # permanent: not retried
    gone.refresh_from_db()
    assert gone.status == Contact.Status.BOUNCING
    others = [row for row in rows if row.to != gone.email]
    assert {row.status for row in others} == {Email.Status.SENT}
    arrivals = _arrivals(inbox)
    assert set(arrivals) == {row.message_id for row in others}  # nothing reached the bad address
    assert set(arrivals.values()) == {1}


def test_broker_down_with_letters_queued_delivers_each_once_when_it_is_back(
    transactional_db, smtp_server, private_redis, letters, confirmed
):
    _require_services()
    inbox, smtp_port = smtp_server
    inbox.delay = 0.05  # so the outage catches tasks queued in Redis and sends in flight
    first = _queue_letters(letters, confirmed, signers=4, extra_targets=8)
    # Restarted if it exits, as in production: the worker may end when the broker goes away
    # while it holds a batch it has not acknowledged (run_worker).
    # Small batches, so that tasks wait in Redis when it stops.
    small = {**FAST, "COALITION_OUTBOX_SEND_BATCH": "5"}
    with run_worker(
        redis_url=private_redis.url, smtp_port=smtp_port, extra_env=small, restart=True
    ):
        inbox.wait_for(lambda msgs: len(msgs) >= 5)
        private_redis.stop()  # the queued tasks are gone with it (no persistence)
        assert len(inbox.messages) < len(first)  # the outage came mid-batch
        # Signers keep sending while the broker is down: their letters are rows, not tasks.
        for i in range(4, 6):
            letters_send(
                letter_campaign=letters,
                signature=confirmed(email=f"signer{i:03d}@example.org"),
                personal_message="Please act.",
            )
        Email.objects.filter(kind="outreach.letter").update(next_attempt_at=timezone.now())
        Email.objects.exclude(kind="outreach.letter").update(status=Email.Status.CANCELLED)
        ids = list(Email.objects.filter(kind="outreach.letter").values_list("pk", flat=True))
        assert len(ids) == len(first) + 2 * 10
        time.sleep(3)  # stays down a while: the worker and beat notice and keep retrying
        # Handed to Redis before the outage, never claimed: only the relay can bring them back.
        lost_tasks = Email.objects.filter(
            pk__in=first, status=Email.Status.QUEUED, dispatched_at__isnull=False
        ).count()
        private_redis.start()  # empty: what was queued in it is lost
        _wait_settled(ids, timeout=90)

    rows = list(Email.objects.filter(pk__in=ids))
    arrivals = _arrivals(inbox)
    print(
        f"broker outage lost {lost_tasks} queued tasks; duplicates: {arrivals.total() - len(ids)}"
    )
    assert lost_tasks > 0  # the outage hit letters already handed to the broker
    assert {row.status for row in rows} == {Email.Status.SENT}
    assert {row.message_id for row in rows} == set(arrivals)
    assert set(arrivals.values()) == {1}  # no letter twice

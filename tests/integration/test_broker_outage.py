"""Mail that Redis held when it stopped: back within seconds of Redis returning, not minutes.

Real PostgreSQL, a Redis server of the test's own (stopped and started again, empty: no
persistence), a Celery worker with beat and SMTP on loopback. Before: a row handed to the broker
was handed out again only after COALITION_OUTBOX_STUCK_AFTER_SECONDS (300 s). Now the relay
notices that the broker lost its data (its marker key is gone) and hands such rows out at once;
rows being sent are not touched, so no message goes out twice.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import redis
from celery import Celery

from outbox import tasks
from outbox.models import Email
from outbox.services import email_enqueue
from tests.integration.conftest import _require_services, run_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# From Redis's return: the target. The stuck-row threshold stays at its default (300 s),
# so only the relay's noticing the loss can meet it.
WITHIN_SECONDS = 30


def test_confirmations_held_by_redis_when_it_stopped_arrive_soon_after_it_returns(
    transactional_db, smtp_server, private_redis, settings, monkeypatch
):
    _require_services()
    inbox, smtp_port = smtp_server
    # The relay runs here once, against the test's Redis, as beat would run it in a worker:
    # what it hands out then sits in Redis (no worker is running yet).
    settings.REDIS_URL = private_redis.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(tasks, "_client", None)
    # Not the current app: later tests in this process would send their tasks to this Redis.
    publisher = Celery("relay-by-hand", broker=private_redis.url, set_as_current=False)
    monkeypatch.setattr(
        tasks.outbox_send_batch,
        "apply_async",
        lambda args, queue: publisher.send_task(
            "outbox.tasks.outbox_send_batch", args=args, queue=queue
        ),
    )
    confirmations = [
        email_enqueue(
            kind="campaigns.confirm",
            to=f"signer{n}@example.org",
            subject="Confirm your signature",
            body_text="Please confirm.\n",
        )
        for n in range(3)
    ]
    ids = [email.pk for email in confirmations]
    assert tasks.outbox_relay() == 3
    broker = redis.Redis.from_url(private_redis.url)
    assert broker.llen("celery") == 1  # one batch, in Redis
    publisher.close()
    # The worker (with beat) starts now: Redis stops before it can have taken anything (its
    # start-up alone takes seconds), and it boots during the outage, as a restarted node would.
    with run_worker(redis_url=private_redis.url, smtp_port=smtp_port):
        private_redis.stop()  # what it held is gone with it: no persistence
        assert set(Email.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
            Email.Status.QUEUED
        }
        time.sleep(5)
        private_redis.start()  # back, empty
        returned = time.monotonic()
        inbox.wait_for(
            lambda msgs: sum(1 for m in msgs if str(m["To"]).startswith("signer")) == 3,
            timeout=WITHIN_SECONDS,
        )
        waited = time.monotonic() - returned
        wait_until(
            lambda: (
                set(Email.objects.filter(pk__in=ids).values_list("status", flat=True))
                == {Email.Status.SENT}
            )
        )
        time.sleep(3)  # room for a second copy to show
    print(f"the confirmations arrived {waited:.1f} s after Redis returned")
    arrivals = Counter(str(m["Message-ID"]).strip() for m in inbox.messages)
    assert set(arrivals) == {email.message_id for email in confirmations}
    assert set(arrivals.values()) == {1}  # nothing twice

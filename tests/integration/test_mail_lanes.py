"""A wave of letters to EU contacts must not hold back the mail someone is waiting for.

Real worker, Redis, PostgreSQL and SMTP on loopback: 400 letters are being sent when a signer's
confirmation is queued; it must arrive long before the wave ends (outbox.services.emails_due_claim:
two lanes in the relay, two Celery queues that the worker reads in turn).
"""

from __future__ import annotations

import pytest

from outbox.models import Email
from outbox.services import email_enqueue
from tests.integration.conftest import run_worker
from tests.integration.test_outreach_faults import FAST, _queue_letters, broker  # noqa: F401
from tests.outreach import conftest as outreach

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

contacts = outreach.contacts
letters = outreach.letters
confirmed = outreach.confirmed

CONFIRMATION_TO = "waiting.signer@example.org"


def test_a_confirmation_queued_during_a_wave_of_letters_overtakes_it(
    broker,  # noqa: F811 - the fixture imported above
    smtp_server,
    letters,
    confirmed,
):
    inbox, smtp_port = smtp_server
    inbox.delay = 0.05  # ~40 letters a second with two worker processes: the wave lasts ~10 s
    ids = _queue_letters(letters, confirmed, signers=20, extra_targets=18)
    assert len(ids) == 400 and Email.objects.filter(pk__in=ids, bulk=True).count() == 400
    # One relay run hands out the whole wave: what is left to order it is the queues.
    wave = {**FAST, "COALITION_OUTBOX_RELAY_BATCH": "400"}
    with run_worker(redis_url=broker, smtp_port=smtp_port, extra_env=wave):
        inbox.wait_for(lambda msgs: len(msgs) >= 20, timeout=60)  # the wave is under way
        email_enqueue(
            kind="campaigns.confirm",
            to=CONFIRMATION_TO,
            subject="Confirm your signature",
            body_text="Please confirm.\n",
        )
        messages = inbox.wait_for(
            lambda msgs: any(CONFIRMATION_TO in str(m["To"]) for m in msgs), timeout=120
        )
    position = next(n for n, m in enumerate(messages) if CONFIRMATION_TO in str(m["To"]))
    print(f"the confirmation arrived after {position} of {len(ids)} letters")
    # Queued behind the wave (one lane, one queue), it arrives after all 400 letters (measured).
    # Here it waits for at most one relay period (2 s, ~80 letters at this pace) and the few
    # letters the worker already holds.
    assert position < 200

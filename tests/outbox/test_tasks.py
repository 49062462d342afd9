from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from outbox import services, tasks
from outbox.models import Email
from outbox.services import email_enqueue, email_retry

pytestmark = pytest.mark.django_db


def _queue(**overrides):
    fields = {"kind": "test", "to": "someone@example.org", "subject": "Hello", "body_text": "Body"}
    return email_enqueue(**{**fields, **overrides})


class FailingBackend:
    """A mail backend whose server answers with a given SMTP error."""

    error: Exception = smtplib.SMTPResponseException(451, b"try later")

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_messages(self, messages):
        raise self.error


@pytest.fixture
def failing(monkeypatch):
    monkeypatch.setattr(services, "mailers", type("M", (), {"default": FailingBackend()})())
    return FailingBackend


def test_send_marks_row_sent_with_stable_message_id():
    email = _queue()
    assert tasks.outbox_send(email.pk) == "sent"
    email.refresh_from_db()
    assert email.status == Email.Status.SENT
    assert email.sent_at is not None
    assert mail.outbox[0].extra_headers["Message-ID"] == email.message_id


def test_sending_twice_sends_once():
    email = _queue()
    tasks.outbox_send(email.pk)
    assert tasks.outbox_send(email.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_temporary_failure_is_retried_later_with_backoff(failing):
    failing.error = smtplib.SMTPResponseException(451, b"greylisted")
    email = _queue()
    assert tasks.outbox_send(email.pk) == "deferred"
    email.refresh_from_db()
    assert email.status == Email.Status.QUEUED
    assert email.attempts == 1
    assert email.next_attempt_at > timezone.now()
    assert "451" in email.last_error
    # not due yet: a second delivery of the task does nothing
    assert tasks.outbox_send(email.pk) == "skipped"


def test_timeout_is_temporary(failing):
    failing.error = TimeoutError("timed out")
    email = _queue()
    assert tasks.outbox_send(email.pk) == "deferred"


def test_permanent_failure_is_recorded_and_never_marked_sent(failing):
    failing.error = smtplib.SMTPRecipientsRefused({"someone@example.org": (550, b"no such user")})
    email = _queue()
    assert tasks.outbox_send(email.pk) == "failed"
    email.refresh_from_db()
    assert email.status == Email.Status.FAILED
    assert email.sent_at is None
    assert "550" in email.last_error


def test_gives_up_after_max_attempts(failing, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    failing.error = smtplib.SMTPServerDisconnected("gone")
    email = _queue()
    tasks.outbox_send(email.pk)
    Email.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert tasks.outbox_send(email.pk) == "failed"


@pytest.fixture
def handed_out(settings, monkeypatch) -> list[tuple[int, str]]:
    """(email id, queue) of every row the relay hands to Celery; rows stay queued."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    handed: list[tuple[int, str]] = []
    monkeypatch.setattr(
        tasks.outbox_send_batch,
        "apply_async",
        lambda args, queue: handed.extend((pk, queue) for pk in args[0]),
    )
    monkeypatch.setattr(tasks, "_broker_lost_its_data", lambda: False)
    return handed


def test_relay_hands_each_due_row_out_once(handed_out):
    due = _queue()
    later = _queue()
    Email.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    assert tasks.outbox_relay() == 1
    assert tasks.outbox_relay() == 0  # already dispatched
    assert handed_out == [(due.pk, "celery")]


def test_mail_someone_waits_for_is_not_held_back_by_a_wave_of_letters(handed_out, settings):
    settings.OUTBOX_RELAY_BATCH = 2
    earlier = timezone.now() - timedelta(minutes=5)
    # Due one second apart, so the relay's order among them (by due time) is defined.
    letters = [
        _queue(kind="outreach.letter", bulk=True, send_at=earlier + timedelta(seconds=n))
        for n in range(5)
    ]
    confirmation = _queue(kind="campaigns.confirm")
    assert tasks.outbox_relay() == 3
    assert handed_out == [
        (confirmation.pk, "celery"),
        (letters[0].pk, settings.OUTBOX_BULK_QUEUE),
        (letters[1].pk, settings.OUTBOX_BULK_QUEUE),
    ]
    assert tasks.outbox_relay() == 2  # the letters go on, two per run
    assert settings.OUTBOX_BULK_QUEUE in {q.name for q in settings.CELERY_TASK_QUEUES}


def test_sweep_requeues_rows_whose_worker_died(settings):
    email = _queue()
    stale = timezone.now() - timedelta(seconds=settings.OUTBOX_STUCK_AFTER_SECONDS + 1)
    Email.objects.filter(pk=email.pk).update(status=Email.Status.SENDING, claimed_at=stale)
    assert tasks.outbox_sweep() == 1
    email.refresh_from_db()
    assert email.status == Email.Status.QUEUED
    assert tasks.outbox_send(email.pk) == "sent"


def test_admin_retry_requeues_a_failed_email(failing):
    failing.error = smtplib.SMTPResponseException(554, b"rejected")
    email = _queue()
    tasks.outbox_send(email.pk)
    failing.error = None
    email = email_retry(email=Email.objects.get(pk=email.pk))
    assert email.status == Email.Status.QUEUED
    assert email.attempts == 0


# --- batches: one claim and one connection for many rows ---------------------------------------


class CountingBackend:
    """A mail backend that records messages and how many connections were opened; it can
    refuse given recipients (as a server answers RCPT) or drop the connection at a message."""

    opened = 0
    sent: list[str] = []
    refuse: dict[str, Exception] = {}
    drop_at: int | None = None  # the connection dies when this many messages were accepted

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        CountingBackend.opened += 1
        return self

    def __exit__(self, *exc):
        return False

    def send_messages(self, messages):
        (message,) = messages
        if CountingBackend.drop_at is not None and len(self.sent) >= CountingBackend.drop_at:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        error = CountingBackend.refuse.get(message.to[0])
        if error is not None:
            raise error
        CountingBackend.sent.append(message.to[0])
        return 1


@pytest.fixture
def counting(monkeypatch):
    CountingBackend.opened, CountingBackend.sent = 0, []
    CountingBackend.refuse, CountingBackend.drop_at = {}, None
    monkeypatch.setattr(
        services, "mailers", type("M", (), {"default": property(lambda s: CountingBackend())})()
    )
    return CountingBackend


def test_a_batch_is_sent_over_one_connection_and_each_row_marked_sent(counting):
    emails = [_queue(to=f"r{n}@example.org") for n in range(5)]
    assert tasks.outbox_send_batch([e.pk for e in emails]) == 5
    assert counting.opened == 1
    assert counting.sent == [f"r{n}@example.org" for n in range(5)]
    rows = Email.objects.filter(pk__in=[e.pk for e in emails])
    assert {(row.status, row.attempts) for row in rows} == {(Email.Status.SENT, 1)}
    assert tasks.outbox_send_batch([e.pk for e in emails]) == 0  # delivered twice: sent once
    assert len(counting.sent) == 5


def test_a_refused_recipient_fails_alone_and_the_batch_goes_on(counting):
    emails = [_queue(to=f"r{n}@example.org") for n in range(3)]
    counting.refuse = {
        "r1@example.org": smtplib.SMTPRecipientsRefused({"r1@example.org": (550, b"no such user")})
    }
    outcomes = services.emails_send(ids=[e.pk for e in emails])
    assert outcomes == {emails[0].pk: "sent", emails[1].pk: "failed", emails[2].pk: "sent"}
    assert counting.opened == 1
    assert Email.objects.get(pk=emails[1].pk).status == Email.Status.FAILED


def test_a_dropped_connection_defers_the_rest_of_the_batch_and_sends_nothing_twice(counting):
    emails = [_queue(to=f"r{n}@example.org") for n in range(4)]
    counting.drop_at = 2
    outcomes = services.emails_send(ids=[e.pk for e in emails])
    # The one being handed over counts the attempt; the one never tried waits as long, uncounted.
    assert [outcomes[e.pk] for e in emails] == ["sent", "sent", "deferred", "released"]
    rows = {row.pk: row for row in Email.objects.filter(pk__in=[e.pk for e in emails])}
    assert [(rows[e.pk].status, rows[e.pk].attempts) for e in emails] == [
        (Email.Status.SENT, 1),
        (Email.Status.SENT, 1),
        (Email.Status.QUEUED, 1),
        (Email.Status.QUEUED, 0),
    ]
    assert all(rows[e.pk].next_attempt_at > timezone.now() for e in emails[2:])
    counting.drop_at = None
    Email.objects.filter(pk__in=[e.pk for e in emails]).update(next_attempt_at=timezone.now())
    services.emails_send(ids=[e.pk for e in emails])
    assert counting.sent == [f"r{n}@example.org" for n in range(4)]  # each exactly once


def test_a_batch_past_its_time_gives_the_rest_back_without_counting_an_attempt(counting, settings):
    settings.OUTBOX_BATCH_SECONDS = -1  # out of time before the first message
    emails = [_queue(to=f"r{n}@example.org") for n in range(3)]
    outcomes = services.emails_send(ids=[e.pk for e in emails])
    assert set(outcomes.values()) == {"released"}
    rows = Email.objects.filter(pk__in=[e.pk for e in emails])
    assert {(row.status, row.attempts, row.dispatched_at) for row in rows} == {
        (Email.Status.QUEUED, 0, None)
    }
    assert counting.sent == []


def test_a_row_unsubscribed_after_it_was_queued_is_not_sent_in_a_batch(counting):
    from outbox.suppression import ALL, suppression_add

    kept = _queue(to="kept@example.org", list_scope=ALL)
    gone = _queue(to="gone@example.org", list_scope=ALL)
    suppression_add(
        digest=Email.objects.get(pk=gone.pk).recipient_digest, scope=ALL, reason="unsubscribed"
    )
    Email.objects.filter(pk=gone.pk).update(status=Email.Status.QUEUED)  # as if raced
    outcomes = services.emails_send(ids=[kept.pk, gone.pk])
    assert outcomes == {kept.pk: "sent", gone.pk: "suppressed"}
    assert counting.sent == ["kept@example.org"]


# --- the relay: bounded rows in flight, one relay at a time, a broker that lost its data -------


def test_the_relay_hands_out_batches_and_keeps_a_bounded_number_in_flight(
    handed_out, settings, monkeypatch
):
    settings.OUTBOX_IN_FLIGHT = 5
    settings.OUTBOX_SEND_BATCH = 2
    batches: list[list[int]] = []
    monkeypatch.setattr(
        tasks.outbox_send_batch, "apply_async", lambda args, queue: batches.append(args[0])
    )
    letters = [_queue(kind="outreach.letter", bulk=True) for _ in range(8)]
    assert tasks.outbox_relay() == 5
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert tasks.outbox_relay() == 0  # five in flight: nothing more until some are sent
    services.emails_send(ids=batches[0])
    assert tasks.outbox_relay() == 2
    assert sorted(pk for batch in batches for pk in batch) == sorted(e.pk for e in letters[:7])


def test_a_second_relay_running_at_the_same_time_hands_out_nothing(handed_out):
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the relay's lock is PostgreSQL's")
    _queue()
    result: list[int] = []
    with transaction.atomic():  # another relay, holding the lock for its transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [services._RELAY_LOCK])

        def other_relay() -> None:
            try:
                result.append(tasks.outbox_relay())
            finally:
                connection.close()

        thread = threading.Thread(target=other_relay)
        thread.start()
        thread.join(timeout=30)
    assert result == [0]
    assert tasks.outbox_relay() == 1  # once the first one is done


def test_rows_the_broker_lost_are_handed_out_again_at_once_and_sending_ones_are_left(
    handed_out, monkeypatch
):
    lost = _queue()
    sending = _queue()
    assert tasks.outbox_relay() == 2
    Email.objects.filter(pk=sending.pk).update(status=Email.Status.SENDING)
    assert tasks.outbox_relay() == 0
    monkeypatch.setattr(tasks, "_broker_lost_its_data", lambda: True)
    assert tasks.outbox_relay() == 1  # not after OUTBOX_STUCK_AFTER_SECONDS: now
    assert handed_out == [(lost.pk, "celery"), (sending.pk, "celery"), (lost.pk, "celery")]
    assert Email.objects.get(pk=sending.pk).status == Email.Status.SENDING


def test_the_broker_marker_is_missing_once_after_the_broker_lost_its_data(settings):
    import redis

    if not settings.REDIS_URL:
        pytest.skip("needs Redis")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(tasks.BROKER_MARKER)  # what a restart without persistence does
    assert tasks._broker_lost_its_data() is True
    assert tasks._broker_lost_its_data() is False


def test_a_batch_of_mass_mail_sends_the_mail_someone_waits_for_first(counting, monkeypatch):
    monkeypatch.setattr(services, "PRIORITY_POLL_SECONDS", 0)
    letters = [_queue(to=f"office{n}@gov.example", bulk=True) for n in range(3)]
    confirmation = _queue(to="signer@example.org")  # its own task waits behind the letters
    outcomes = services.emails_send(ids=[e.pk for e in letters])
    assert counting.sent[0] == "signer@example.org"
    assert outcomes[confirmation.pk] == "sent"
    assert Email.objects.get(pk=confirmation.pk).status == Email.Status.SENT
    assert tasks.outbox_send_batch([confirmation.pk]) == 0  # its own task then does nothing
    assert len(counting.sent) == 4

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
        tasks.outbox_send,
        "apply_async",
        lambda args, queue: handed.append((args[0], queue)),
    )
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

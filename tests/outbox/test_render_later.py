"""Mail queued by recipe (``email_enqueue_rendered_later``) and rendered by the sending worker.

The row is written with a registered renderer's name and small JSON arguments, no subject or
body; its first send attempt renders it and stores the text (encrypted) before the hand-over, so
every retry sends the same bytes. A renderer that finds its subject gone cancels the row; one
that raises is a failed attempt like a mail server's refusal: retried, never lost.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from foundation.mailbox import email_digest
from outbox import services, suppression, tasks
from outbox.models import Email, Suppression
from outbox.selectors import emails_to_mailbox_reach
from outbox.services import RenderedEmail, email_enqueue, email_enqueue_rendered_later
from tests.outbox.test_tasks import FailingBackend

pytestmark = pytest.mark.django_db

RENDERER = "tests.note"


class Notes:
    """What the test renderer renders: a note by key, gone when deleted; ``broken`` raises."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}
        self.calls = 0
        self.broken: Exception | None = None

    def render(self, email: Email) -> RenderedEmail | None:
        self.calls += 1
        if self.broken is not None:
            raise self.broken
        text = self.texts.get(email.render_args["note"])
        if text is None:
            return None
        unsubscribe = f"\nunsubscribe: {email.list_token}" if email.list_scope else ""
        return RenderedEmail(
            subject=f"Note\n{email.render_args['note']}", body_text=text + unsubscribe
        )


@pytest.fixture
def notes(monkeypatch) -> Notes:
    notes = Notes()
    monkeypatch.setitem(services._RENDERERS, RENDERER, notes.render)
    return notes


def _queue_note(key: str = "a", **overrides) -> Email:
    fields = {"kind": "test.note", "to": "Reader <reader@example.org>", "renderer": RENDERER}
    return email_enqueue_rendered_later(**{**fields, "args": {"note": key}, **overrides})


def _raw(email: Email, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM outbox_email WHERE id = %s", [email.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_a_row_queued_by_recipe_holds_no_text_until_it_is_sent(notes):
    notes.texts["a"] = "The note."
    email = _queue_note()
    email.refresh_from_db()
    assert (email.subject, email.body_text, _raw(email, "body_text")) == ("", "", "")
    assert email.renderer == RENDERER and email.render_args == {"note": "a"}
    assert email.recipient_digest == email_digest("reader@example.org")
    assert email.status == Email.Status.QUEUED and email.message_id
    assert notes.calls == 0

    assert tasks.outbox_send(email.pk) == "sent"
    email.refresh_from_db()
    assert email.status == Email.Status.SENT
    assert (email.subject, email.body_text) == ("Note a", "The note.")
    # stored encrypted, like text rendered when it was queued
    assert _raw(email, "body_text") not in ("", "The note.")
    sent = mail.outbox[0]
    assert (sent.subject, sent.body, sent.to) == ("Note a", "The note.", [email.to])
    assert sent.extra_headers["Message-ID"] == email.message_id


def test_a_retry_sends_the_bytes_of_the_first_rendering(notes, monkeypatch):
    notes.texts["a"] = "First version."
    email = _queue_note()
    failing = type("M", (), {"default": FailingBackend()})()
    with monkeypatch.context() as patch:
        patch.setattr(FailingBackend, "error", smtplib.SMTPResponseException(451, b"greylisted"))
        patch.setattr(services, "mailers", failing)
        assert tasks.outbox_send(email.pk) == "deferred"
    email.refresh_from_db()
    assert (email.status, email.attempts, email.body_text) == (
        Email.Status.QUEUED,
        1,
        "First version.",
    )
    notes.texts["a"] = "Changed meanwhile."
    Email.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert tasks.outbox_send(email.pk) == "sent"
    assert mail.outbox[0].body == "First version."
    assert notes.calls == 1


def test_a_row_whose_subject_is_gone_is_cancelled_unsent(notes):
    email = _queue_note("deleted")
    assert tasks.outbox_send(email.pk) == "gone"
    email.refresh_from_db()
    assert email.status == Email.Status.CANCELLED
    assert email.last_error.startswith("gone")
    assert (email.body_text, email.sent_at, mail.outbox) == ("", None, [])
    assert tasks.outbox_send(email.pk) == "skipped"  # never tried again


def test_a_renderer_that_raises_is_retried_with_backoff_and_the_row_kept(notes):
    notes.texts["a"] = "The note."
    notes.broken = ConnectionError("database went away")
    email = _queue_note()
    assert tasks.outbox_send(email.pk) == "deferred"
    email.refresh_from_db()
    assert email.status == Email.Status.QUEUED
    assert email.attempts == 1 and email.next_attempt_at > timezone.now()
    assert "ConnectionError" in email.last_error and email.body_text == ""
    assert tasks.outbox_send(email.pk) == "skipped"  # not due yet
    notes.broken = None
    Email.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert tasks.outbox_send(email.pk) == "sent"
    assert mail.outbox[0].body == "The note."


def test_a_renderer_that_keeps_raising_fails_for_good_after_the_last_attempt(notes, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    notes.broken = ValueError("no such template")
    email = _queue_note()
    assert tasks.outbox_send(email.pk) == "deferred"
    Email.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    assert tasks.outbox_send(email.pk) == "failed"
    email.refresh_from_db()
    # Only the exception's type: its text may quote what was being rendered.
    assert email.status == Email.Status.FAILED and "ValueError" in email.last_error
    assert "no such template" not in email.last_error
    assert mail.outbox == []


def test_an_unregistered_renderer_is_refused_when_queueing(notes):
    with pytest.raises(LookupError):
        _queue_note(renderer="tests.nobody")
    assert not Email.objects.exists()


def test_a_batch_renders_sends_and_cancels_each_row_on_its_own(notes):
    notes.texts.update(a="Note A.", b="Note B.")
    rendered_now = email_enqueue(kind="test", to="x@example.org", subject="S", body_text="Plain")
    first, gone, broken = _queue_note("a"), _queue_note("deleted"), _queue_note("b")
    original = notes.render

    def render(email: Email) -> RenderedEmail | None:
        if email.pk == broken.pk:
            raise RuntimeError("only this one")
        return original(email)

    services._RENDERERS[RENDERER] = render
    ids = [rendered_now.pk, first.pk, gone.pk, broken.pk]
    assert tasks.outbox_send_batch(ids) == 2
    statuses = dict(Email.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses == {
        rendered_now.pk: Email.Status.SENT,
        first.pk: Email.Status.SENT,
        gone.pk: Email.Status.CANCELLED,
        broken.pk: Email.Status.QUEUED,
    }
    assert sorted(m.body for m in mail.outbox) == ["Note A.", "Plain"]


def test_embedded_mode_renders_and_sends_after_the_commit(
    notes, django_capture_on_commit_callbacks
):
    notes.texts["a"] = "The note."
    with django_capture_on_commit_callbacks(execute=True):
        email = _queue_note()
        assert mail.outbox == []
    email.refresh_from_db()
    assert email.status == Email.Status.SENT and mail.outbox[0].body == "The note."


def test_list_mail_by_recipe_gets_its_token_headers_and_honours_suppression(notes):
    notes.texts["a"] = "News."
    listed = _queue_note(list_scope=suppression.ALL)
    assert listed.list_token
    assert tasks.outbox_send(listed.pk) == "sent"
    assert mail.outbox[0].body == f"News.\nunsubscribe: {listed.list_token}"
    assert "List-Unsubscribe" in mail.outbox[0].extra_headers

    Suppression.objects.create(
        digest=email_digest("reader@example.org"),
        scope=suppression.ALL,
        reason=Suppression.Reason.UNSUBSCRIBED,
    )
    suppressed = _queue_note(list_scope=suppression.ALL)
    assert (suppressed.status, suppressed.last_error) == (Email.Status.CANCELLED, "suppressed")
    assert notes.calls == 1  # never rendered


def test_mail_by_recipe_counts_for_the_per_mailbox_cap_like_rendered_mail(notes):
    digest = email_digest("reader@example.org")
    since = timezone.now() - timedelta(days=1)
    _queue_note(kind="test.capped")
    assert not emails_to_mailbox_reach(digest=digest, kinds=["test.capped"], since=since, cap=2)
    _queue_note(kind="test.capped", to="READER@example.org")
    assert emails_to_mailbox_reach(digest=digest, kinds=["test.capped"], since=since, cap=2)

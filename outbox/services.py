"""The outbox: the only way any part of Coalition sends an email.

Writing (``email_enqueue``) puts a row in the outbox inside the caller's transaction; sending
(``email_send``), handing due rows out (``emails_due_claim``) and re-queueing rows of dead
workers (``emails_stuck_requeue``) are here too. ``outbox/tasks.py`` only wraps them for Celery.
Every step is idempotent by database state: a row is claimed with a conditional UPDATE, so a
task delivered twice (acks_late, a restarted worker) finds nothing to do the second time.
"""

from __future__ import annotations

import logging
import random
import smtplib
import socket
from collections.abc import Callable
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.utils import make_msgid, parseaddr
from typing import Any

from anymail.exceptions import AnymailError, AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from foundation.crypto import scrub
from foundation.mailbox import email_digest
from outbox.dkim import SignedMessage
from outbox.models import Email
from outbox.suppression import list_headers, list_token_for, mailbox_suppressed, unsubscribe_url

logger = logging.getLogger(__name__)


def email_enqueue(
    *,
    kind: str,
    to: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    reply_to: str = "",
    from_email: str | None = None,
    send_at: datetime | None = None,
    bulk: bool = False,
    list_scope: str = "",
    list_token: str = "",
) -> Email:
    """Queue one email. Call inside the transaction that causes it; it leaves with the commit.

    ``send_at`` holds it back until then (pacing); the relay picks it up when it is due.
    ``bulk``: mass mail that nobody is waiting for at a screen (letters to EU contacts); it
    travels in its own lane so that mail someone is waiting for never queues behind it.
    ``list_scope``: non-transactional mail of that list (outbox/suppression.py); it carries
    one-click unsubscribe headers, and to a suppressed mailbox it is written cancelled, unsent.
    """
    digest = email_digest(parseaddr(to)[1] or to)
    suppressed = bool(list_scope) and mailbox_suppressed(digest=digest, scope=list_scope)
    if list_scope and not list_token:
        list_token = list_token_for(digest=digest, scope=list_scope)
    email = Email.objects.create(
        kind=kind,
        to=to,
        recipient_digest=digest,
        from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        reply_to=reply_to,
        subject=" ".join(subject.splitlines()).strip()[:255],
        body_text=body_text,
        body_html=body_html,
        message_id=make_msgid(domain=settings.OUTBOX_MESSAGE_ID_DOMAIN),
        next_attempt_at=send_at or timezone.now(),
        bulk=bulk,
        list_scope=list_scope,
        list_token=list_token,
        status=Email.Status.CANCELLED if suppressed else Email.Status.QUEUED,
        last_error="suppressed" if suppressed else "",
    )
    if suppressed:
        return email
    if settings.CELERY_TASK_ALWAYS_EAGER and (send_at is None or send_at <= timezone.now()):
        # Embedded mode has no broker and no relay: send right after the commit, in-process.
        transaction.on_commit(lambda: _send_in_process(email.pk))
    return email


def email_enqueue_template(
    *,
    kind: str,
    to: str,
    template: str,
    context: dict[str, Any],
    language: str | None = None,
    reply_to: str = "",
    bulk: bool = False,
    list_scope: str = "",
    send_at: datetime | None = None,
) -> Email:
    """Render ``<template>_subject.txt``, ``_body.txt`` (and ``_body.html`` if present).

    With ``list_scope`` the context has ``unsubscribe_url``, for the body's own link."""
    context = {"site_url": settings.SITE_URL, **context}
    list_token = ""
    if list_scope:
        list_token = list_token_for(digest=email_digest(parseaddr(to)[1] or to), scope=list_scope)
        context["unsubscribe_url"] = unsubscribe_url(list_token)
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"{template}_subject.txt", context)
        body_text = render_to_string(f"{template}_body.txt", context).strip()
    return email_enqueue(
        kind=kind,
        to=to,
        subject=subject,
        body_text=body_text + "\n",
        reply_to=reply_to,
        bulk=bulk,
        list_scope=list_scope,
        list_token=list_token,
        send_at=send_at,
    )


# What other apps do when one of their emails fails for good (e.g. mark a contact bouncing).
FailureHook = Callable[[Email], None]
_FAILURE_HOOKS: dict[str, FailureHook] = {}


def email_failure_hook_register(*, kind_prefix: str, hook: FailureHook) -> None:
    _FAILURE_HOOKS[kind_prefix] = hook


def email_failed_permanently(*, email: Email) -> None:
    for prefix, hook in _FAILURE_HOOKS.items():
        if email.kind.startswith(prefix):
            hook(email)


def _send_in_process(email_id: int) -> None:
    try:
        email_send(email_id=email_id)
    except Exception:
        # The row stays queued; the periodic runner picks it up. A request must not fail here.
        logger.exception("in-process send failed", extra={"email_id": email_id})


def email_retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with full jitter, capped at six hours."""
    base = settings.OUTBOX_RETRY_BASE_SECONDS * (2 ** max(0, attempts - 1))
    capped = min(base, 6 * 60 * 60)
    return timedelta(seconds=capped / 2 + random.uniform(0, capped / 2))  # noqa: S311


def email_retry(*, email: Email) -> Email:
    """An admin asks to try a failed or cancelled email again."""
    updated = Email.objects.filter(
        pk=email.pk, status__in=[Email.Status.FAILED, Email.Status.CANCELLED]
    ).update(
        status=Email.Status.QUEUED,
        next_attempt_at=timezone.now(),
        dispatched_at=None,
        attempts=0,
    )
    email.refresh_from_db()
    if updated and settings.CELERY_TASK_ALWAYS_EAGER:
        _send_in_process(email.pk)
    return email


def email_cancel(*, email: Email) -> Email:
    Email.objects.filter(pk=email.pk, status=Email.Status.QUEUED).update(
        status=Email.Status.CANCELLED
    )
    email.refresh_from_db()
    return email


def from_display(name: str, address: str) -> str:
    """A From header value with a display name that cannot break the header: control
    characters (a line break would start a new header) are dropped, and quoting and encoding
    are left to the email package (a quote or a backslash in the name stays text)."""
    clean = " ".join("".join(c if c.isprintable() else " " for c in name).split())[:120]
    return str(Address(display_name=clean, addr_spec=address))


# --- sending -----------------------------------------------------------------------------------


def send_failure_classify(exc: Exception) -> tuple[bool, str]:
    """(permanent?, reason) for a failed send, with any address scrubbed from the reason."""
    permanent, reason = _classify_raw(exc)
    return permanent, scrub(reason)


def _classify_raw(exc: Exception) -> tuple[bool, str]:
    """(permanent?, reason) for a failed send. 5xx and refused recipients are permanent."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        permanent = any(code >= 500 for code in codes)
        return permanent, f"recipient refused: {exc.recipients!r}"[:1000]
    if isinstance(exc, smtplib.SMTPResponseException):
        message = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return exc.smtp_code >= 500, f"SMTP {exc.smtp_code}: {message}"[:1000]
    if isinstance(exc, AnymailRecipientsRefused):
        return True, f"provider refused recipient: {exc}"[:1000]
    if isinstance(exc, AnymailError):
        return False, f"provider error: {exc}"[:1000]
    if isinstance(exc, smtplib.SMTPException | socket.timeout | OSError):
        return False, f"{type(exc).__name__}: {exc}"[:1000]
    return False, f"{type(exc).__name__}: {exc}"[:1000]


def email_message(email: Email) -> EmailMultiAlternatives:
    headers = {"Message-ID": email.message_id, "Auto-Submitted": "auto-generated"}
    if email.list_scope and email.list_token:
        headers.update(list_headers(email.list_token))
    message = SignedMessage(
        subject=email.subject,
        body=email.body_text,
        from_email=email.from_email,
        to=[email.to],
        reply_to=[email.reply_to] if email.reply_to else None,
        headers=headers,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


def email_send(*, email_id: int) -> str:
    """Send one queued, due row: "sent", "deferred" (retry later), "failed" (for good),
    "suppressed" (unsubscribed since it was queued) or "skipped" (not ours to send)."""
    now = timezone.now()
    claimed = Email.objects.filter(
        pk=email_id, status=Email.Status.QUEUED, next_attempt_at__lte=now
    ).update(status=Email.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return "skipped"
    email = Email.objects.get(pk=email_id)
    if email.list_scope and mailbox_suppressed(
        digest=email.recipient_digest, scope=email.list_scope
    ):
        # Unsubscribed (or bounced, or complained) after the row was queued: not sent.
        Email.objects.filter(pk=email_id, status=Email.Status.SENDING).update(
            status=Email.Status.CANCELLED, last_error="suppressed"
        )
        return "suppressed"
    try:
        with mailers.default as connection:
            sent = connection.send_messages([email_message(email)])
        if not sent:
            raise smtplib.SMTPException("the mail backend accepted no message")
    except Exception as exc:
        permanent, reason = send_failure_classify(exc)
        if permanent or email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
            with transaction.atomic():
                failed = Email.objects.filter(pk=email_id, status=Email.Status.SENDING).update(
                    status=Email.Status.FAILED, last_error=reason
                )
                if failed:
                    email.status, email.last_error = Email.Status.FAILED, reason
                    email_failed_permanently(email=email)
            logger.warning(
                "email failed permanently",
                extra={"email_id": email_id, "kind": email.kind, "reason": reason},
            )
            return "failed"
        Email.objects.filter(pk=email_id, status=Email.Status.SENDING).update(
            status=Email.Status.QUEUED,
            last_error=reason,
            dispatched_at=None,
            next_attempt_at=timezone.now() + email_retry_delay(email.attempts),
        )
        logger.info(
            "email send deferred",
            extra={"email_id": email_id, "attempts": email.attempts, "reason": reason},
        )
        return "deferred"
    Email.objects.filter(pk=email_id).update(
        status=Email.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def emails_due_claim() -> list[tuple[list[int], str]]:
    """Mark due rows as handed out and return them by lane: ``[(ids, queue), ...]``.

    Safe to run concurrently (skip_locked). A row handed out but never sent (the broker lost
    the task) is handed out again after OUTBOX_STUCK_AFTER_SECONDS.
    """
    now = timezone.now()
    redispatch_before = now - timedelta(seconds=settings.OUTBOX_STUCK_AFTER_SECONDS)
    due = (
        Email.objects.select_for_update(skip_locked=True)
        .filter(status=Email.Status.QUEUED, next_attempt_at__lte=now)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=redispatch_before))
        .order_by("next_attempt_at")
    )
    batch = settings.OUTBOX_RELAY_BATCH
    with transaction.atomic():
        # Two lanes, each with its own batch and queue: however many letters are due, the
        # confirmation someone is waiting for is handed over in this run, to a queue that the
        # workers read in turn with the bulk one instead of behind it.
        lanes = [
            (
                list(due.filter(bulk=False).values_list("pk", flat=True)[:batch]),
                settings.CELERY_TASK_DEFAULT_QUEUE,
            ),
            (
                list(due.filter(bulk=True).values_list("pk", flat=True)[:batch]),
                settings.OUTBOX_BULK_QUEUE,
            ),
        ]
        Email.objects.filter(pk__in=[pk for ids, _queue in lanes for pk in ids]).update(
            dispatched_at=now
        )
    return lanes


def emails_stuck_requeue() -> int:
    """Put rows whose worker died mid-send back in the queue.

    A worker killed after the SMTP server accepted a message but before the row was marked
    sent leaves it SENDING; re-queueing it may send that one message a second time (with the
    same Message-ID). That is the documented bound: at most one extra copy per worker crash.
    """
    stuck_before = timezone.now() - timedelta(seconds=settings.OUTBOX_STUCK_AFTER_SECONDS)
    return Email.objects.filter(status=Email.Status.SENDING, claimed_at__lt=stuck_before).update(
        status=Email.Status.QUEUED, dispatched_at=None, next_attempt_at=timezone.now()
    )

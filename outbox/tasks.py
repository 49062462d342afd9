"""Celery side of the outbox: a relay hands due rows to workers, a worker sends one row.

Every task is idempotent by database state: a row is claimed with a conditional UPDATE, so a
task delivered twice (acks_late, a restarted worker) finds nothing to do the second time.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from datetime import timedelta

from anymail.exceptions import AnymailError, AnymailRecipientsRefused
from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from outbox.dkim import SignedMessage
from outbox.models import Email
from outbox.services import email_failed_permanently, email_retry_delay
from outbox.suppression import list_headers, mailbox_suppressed
from privacy.crypto import scrub

logger = logging.getLogger(__name__)


class PermanentFailure(Exception):
    pass


def _classify(exc: Exception) -> tuple[bool, str]:
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


def _message(email: Email) -> EmailMultiAlternatives:
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


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def outbox_send(email_id: int) -> str:
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
            sent = connection.send_messages([_message(email)])
        if not sent:
            raise smtplib.SMTPException("the mail backend accepted no message")
    except Exception as exc:
        permanent, reason = _classify(exc)
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


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def outbox_relay() -> int:
    """Hand due rows to workers. Runs every few seconds from beat; safe to run concurrently."""
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
    for ids, queue in lanes:
        for email_id in ids:
            outbox_send.apply_async((email_id,), queue=queue)
    return sum(len(ids) for ids, _queue in lanes)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, ignore_result=True)
def outbox_sweep() -> int:
    """Put rows whose worker died mid-send back in the queue.

    A worker killed after the SMTP server accepted a message but before the row was marked
    sent leaves it SENDING; re-queueing it may send that one message a second time (with the
    same Message-ID). That is the documented bound: at most one extra copy per worker crash.
    """
    stuck_before = timezone.now() - timedelta(seconds=settings.OUTBOX_STUCK_AFTER_SECONDS)
    return Email.objects.filter(status=Email.Status.SENDING, claimed_at__lt=stuck_before).update(
        status=Email.Status.QUEUED, dispatched_at=None, next_attempt_at=timezone.now()
    )

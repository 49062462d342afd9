"""The outbox: the only way any part of Coalition sends an email.

Writing (``email_enqueue``) puts a row in the outbox inside the caller's transaction (or, with
``email_enqueue_rendered_later``, a row with a recipe that the sending worker renders); sending
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
import time
from collections.abc import Callable
from dataclasses import dataclass
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
from foundation.inserts import row_insert
from foundation.mailbox import email_digest
from outbox.dkim import SignedMessage
from outbox.models import Email
from outbox.suppression import (
    list_headers,
    list_token_for,
    mailbox_suppressed,
    suppressed_digests,
    unsubscribe_url,
)

logger = logging.getLogger(__name__)

# The template engine for plain-text mail: no HTML escaping (coalition/settings.py TEMPLATES).
MAIL_TEXT = "mail_text"


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
    return _email_write(
        kind=kind,
        to=to,
        subject=_subject_line(subject),
        body_text=body_text,
        body_html=body_html,
        reply_to=reply_to,
        from_email=from_email,
        send_at=send_at,
        bulk=bulk,
        list_scope=list_scope,
        list_token=list_token,
    )


def email_enqueue_rendered_later(
    *,
    kind: str,
    to: str,
    renderer: str,
    args: dict[str, Any],
    reply_to: str = "",
    send_at: datetime | None = None,
    bulk: bool = False,
    list_scope: str = "",
) -> Email:
    """Queue one email by recipe: the worker that first tries to send it renders it.

    ``renderer`` names a function an app registered (``email_renderer_register``); ``args``
    (JSON: ids, a template name, never personal data) are what it needs to find what the mail
    is about, then and not now. The row is otherwise the same as ``email_enqueue``'s (recipient
    digest, lane, list and unsubscribe token, Message-ID, suppression, per-mailbox counting), so
    it costs the caller's transaction one INSERT and no template. For mail on a hot path (the
    sign POST): the rendering, its reads and two encryptions move to the worker.
    """
    if renderer not in _RENDERERS:
        # Fail in the caller's transaction, not later in a worker that can only retry it.
        raise LookupError(f"no email renderer registered as {renderer!r}")
    return _email_write(
        kind=kind,
        to=to,
        subject="",
        body_text="",
        reply_to=reply_to,
        send_at=send_at,
        bulk=bulk,
        list_scope=list_scope,
        renderer=renderer,
        render_args=args,
    )


def _email_write(
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
    renderer: str = "",
    render_args: dict[str, Any] | None = None,
) -> Email:
    digest = email_digest(parseaddr(to)[1] or to)
    suppressed = bool(list_scope) and mailbox_suppressed(digest=digest, scope=list_scope)
    if list_scope and not list_token:
        list_token = list_token_for(digest=digest, scope=list_scope)
    # One INSERT, without save()'s bookkeeping: this row is written by every sign POST.
    email = row_insert(
        Email(
            kind=kind,
            to=to,
            recipient_digest=digest,
            from_email=from_email or settings.DEFAULT_FROM_EMAIL,
            reply_to=reply_to,
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            message_id=make_msgid(domain=settings.OUTBOX_MESSAGE_ID_DOMAIN),
            renderer=renderer,
            render_args=render_args or {},
            next_attempt_at=send_at or timezone.now(),
            bulk=bulk,
            list_scope=list_scope,
            list_token=list_token,
            status=Email.Status.CANCELLED if suppressed else Email.Status.QUEUED,
            last_error="suppressed" if suppressed else "",
        )
    )
    if suppressed:
        return email
    if settings.CELERY_TASK_ALWAYS_EAGER and (send_at is None or send_at <= timezone.now()):
        # Embedded mode has no broker and no relay: send right after the commit, in-process.
        transaction.on_commit(lambda: _send_in_process(email.pk))
    return email


def _subject_line(subject: str) -> str:
    return " ".join(subject.splitlines()).strip()[:255]


@dataclass(frozen=True)
class RenderedEmail:
    subject: str  # as rendered; stored as one line of at most 255 characters
    body_text: str
    body_html: str = ""


def email_template_render(
    *, template: str, context: dict[str, Any], language: str | None = None, list_token: str = ""
) -> RenderedEmail:
    """Render ``<template>_subject.txt`` and ``_body.txt`` in ``language``.

    With ``list_token`` (mail of a list) the context has ``unsubscribe_url``, for the body's own
    link. ``email_enqueue_template`` and the apps' renderers both render through here, so mail
    rendered by a worker is the same text as mail rendered in a request."""
    context = {"site_url": settings.SITE_URL, **context}
    if list_token:
        context["unsubscribe_url"] = unsubscribe_url(list_token)
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"{template}_subject.txt", context, using=MAIL_TEXT)
        body_text = render_to_string(f"{template}_body.txt", context, using=MAIL_TEXT).strip()
    return RenderedEmail(subject=subject, body_text=body_text + "\n")


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
    """Render ``<template>_subject.txt`` and ``_body.txt`` now and queue the result.

    With ``list_scope`` the context has ``unsubscribe_url``, for the body's own link."""
    list_token = ""
    if list_scope:
        list_token = list_token_for(digest=email_digest(parseaddr(to)[1] or to), scope=list_scope)
    rendered = email_template_render(
        template=template, context=context, language=language, list_token=list_token
    )
    return email_enqueue(
        kind=kind,
        to=to,
        subject=rendered.subject,
        body_text=rendered.body_text,
        reply_to=reply_to,
        bulk=bulk,
        list_scope=list_scope,
        list_token=list_token,
        send_at=send_at,
    )


# How an app renders the mail it queued by recipe (``email_enqueue_rendered_later``), called by
# the sending worker with the row (``render_args``, ``list_token``, ``recipient_digest``): the
# message, or None when what the mail was about is gone (a signature withdrawn meanwhile); the
# row is then cancelled, never sent. An exception counts as a failed attempt (retried later).
EmailRenderer = Callable[[Email], RenderedEmail | None]
_RENDERERS: dict[str, EmailRenderer] = {}


def email_renderer_register(*, name: str, renderer: EmailRenderer) -> None:
    _RENDERERS[name] = renderer


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
    "suppressed" (unsubscribed since it was queued), "gone" (queued by recipe, and what it was
    about was deleted before it was rendered) or "skipped" (not ours to send)."""
    return emails_send(ids=[email_id]).get(email_id, "skipped")


def emails_claim(*, ids: list[int] | None = None, priority: int = 0) -> list[Email]:
    """Take queued, due rows for this worker: SENDING, one attempt more. Either the rows among
    ``ids``, or (``priority``) up to that many due rows of the ordinary lane, oldest first.

    Rows another worker is claiming at this moment are skipped (it has them), so two deliveries
    of one task, or a task and a re-dispatch of its rows, never send a row twice.
    """
    now = timezone.now()
    due = Email.objects.select_for_update(skip_locked=True).filter(
        status=Email.Status.QUEUED, next_attempt_at__lte=now
    )
    if ids is not None:
        due = due.filter(pk__in=ids).order_by("pk")
    else:
        due = due.filter(bulk=False).order_by("next_attempt_at")[:priority]
    with transaction.atomic():
        emails = list(due)
        if emails:
            Email.objects.filter(pk__in=[email.pk for email in emails]).update(
                status=Email.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
            )
    for email in emails:
        email.status, email.claimed_at, email.attempts = (
            Email.Status.SENDING,
            now,
            email.attempts + 1,
        )
    return emails


# A worker sending a batch of mass mail looks this often for ordinary mail that is due (a
# confirmation someone waits for at a screen) and sends it first, over the same connection: all
# workers may be busy with a wave, and the relay's task waits behind their batches too.
PRIORITY_POLL_SECONDS = 0.5
PRIORITY_TAKE = 10


def emails_send(*, ids: list[int]) -> dict[int, str]:
    """Send a batch of rows over one connection to the mail server; each row's outcome.

    Each message is marked sent as soon as the server accepted it, so a worker that dies
    mid-batch leaves at most the one message it was handing over accepted but not marked: the
    sweep sends that one again (same Message-ID). The others are still SENDING, never handed
    over, and go out once. That is the bound: at most one extra copy per worker process crash.
    A batch stops taking new messages after OUTBOX_BATCH_SECONDS and gives the rest back, so
    it ends well inside its task's time limit. A batch of mass mail also sends, first, the
    ordinary mail that falls due meanwhile (PRIORITY_POLL_SECONDS).
    """
    outcomes = dict.fromkeys(ids, "skipped")
    emails = emails_claim(ids=ids)
    if not emails:
        return outcomes
    pending = _rendered(_unsuppressed(emails, outcomes), outcomes)
    bulk = all(email.bulk for email in emails)
    deadline = time.monotonic() + settings.OUTBOX_BATCH_SECONDS
    next_poll = time.monotonic() + PRIORITY_POLL_SECONDS
    try:
        with mailers.default as connection:
            while pending:
                if time.monotonic() > deadline:
                    break
                if bulk and time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + PRIORITY_POLL_SECONDS
                    taken = emails_claim(priority=PRIORITY_TAKE)
                    outcomes.update(dict.fromkeys((email.pk for email in taken), "skipped"))
                    pending[:0] = _rendered(_unsuppressed(taken, outcomes), outcomes)
                email = pending[0]
                try:
                    if not connection.send_messages([email_message(email)]):
                        raise smtplib.SMTPException("the mail backend accepted no message")
                except Exception as exc:
                    if _message_specific(exc):
                        pending.pop(0)
                        outcomes[email.pk] = _send_failed(email=email, exc=exc)
                        continue
                    raise
                pending.pop(0)
                Email.objects.filter(pk=email.pk).update(
                    status=Email.Status.SENT, sent_at=timezone.now(), last_error=""
                )
                outcomes[email.pk] = "sent"
    except Exception as exc:
        # The connection (or the provider) failed. The message being handed over counts the
        # attempt; the rest were not tried: they wait as long and count nothing, so a message
        # that breaks connections cannot use up the attempts of the others in its batch.
        if pending:
            outcomes[pending[0].pk] = _send_failed(email=pending[0], exc=exc)
            rest, pending = pending[1:], []
            _emails_release(rest, delay=email_retry_delay(1))
            outcomes.update(dict.fromkeys((email.pk for email in rest), "released"))
    if pending:
        _emails_release(pending)
        outcomes.update(dict.fromkeys((email.pk for email in pending), "released"))
    return outcomes


def _unsuppressed(emails: list[Email], outcomes: dict[int, str]) -> list[Email]:
    """The claimed rows still to send; those unsubscribed (or bounced, or complained about)
    since they were queued are cancelled, unsent."""
    suppressed = _suppressed_ids(emails)
    if suppressed:
        Email.objects.filter(pk__in=suppressed, status=Email.Status.SENDING).update(
            status=Email.Status.CANCELLED, last_error="suppressed"
        )
        outcomes.update(dict.fromkeys(suppressed, "suppressed"))
    return [email for email in emails if email.pk not in suppressed]


def _rendered(emails: list[Email], outcomes: dict[int, str]) -> list[Email]:
    """The claimed rows ready to send. A row queued by recipe is rendered on its first attempt
    and its subject and body stored (encrypted) before anything is handed to the mail server: a
    retry, or a re-send after a worker crash, sends the same bytes under the same Message-ID."""
    ready = []
    for email in emails:
        outcome = _email_render(email) if email.awaits_rendering else "rendered"
        if outcome == "rendered":
            ready.append(email)
        else:
            outcomes[email.pk] = outcome
    return ready


# Why a row queued by recipe was cancelled unsent: what it was about no longer exists.
_GONE = "gone: what this mail was about was deleted"


def emails_by_recipe_cancel(*, renderer: str, args: dict[str, Any]) -> int:
    """Cancel the queued mail a renderer was to render for ``args`` (each key equal), rendered
    already or not: what it was about is gone (a signature withdrawn), so a row that was
    rendered on its first attempt and is waiting for a retry is not sent after all."""
    return Email.objects.filter(
        renderer=renderer,
        status=Email.Status.QUEUED,
        **{f"render_args__{key}": value for key, value in args.items()},
    ).update(status=Email.Status.CANCELLED, last_error=_GONE)


class RenderingFailed(Exception):
    """A renderer raised; carries only the type of what it raised (see _email_render)."""

    def __str__(self) -> str:
        return f"rendering failed ({self.args[0]})"


def _email_render(email: Email) -> str:
    """Render a claimed row by its recipe: "rendered", "gone" (cancelled: what it was about no
    longer exists), "deferred" or "failed" (the renderer raised: a failed attempt, like a mail
    server's temporary refusal, retried with backoff up to OUTBOX_MAX_ATTEMPTS)."""
    try:
        renderer = _RENDERERS.get(email.renderer)
        if renderer is None:
            raise LookupError(f"no email renderer registered as {email.renderer!r}")
        rendered = renderer(email)
        if rendered is not None and not rendered.body_text:
            raise ValueError(f"email renderer {email.renderer!r} rendered an empty body")
    except Exception as exc:
        # The exception's text may quote what was being rendered (a signer's name, a link's
        # token): only its type is logged, and only its type is recorded on the row, which
        # staff see.
        logger.warning(
            "email rendering failed",
            extra={"email_id": email.pk, "renderer": email.renderer, "error": type(exc).__name__},
        )
        return _send_failed(email=email, exc=RenderingFailed(type(exc).__name__))
    # Only while the row is still this claim's: had the sweep taken it back and another worker
    # claimed it, two renderings (with different link tokens) could go out under one Message-ID.
    ours = Email.objects.filter(
        pk=email.pk, status=Email.Status.SENDING, claimed_at=email.claimed_at
    )
    if rendered is None:
        ours.update(status=Email.Status.CANCELLED, last_error=_GONE)
        return "gone"
    subject = _subject_line(rendered.subject)
    stored = ours.update(
        subject=subject, body_text=rendered.body_text, body_html=rendered.body_html
    )
    if not stored:
        return "skipped"  # no longer ours: the sweep took it back meanwhile
    email.subject, email.body_text, email.body_html = (
        subject,
        rendered.body_text,
        rendered.body_html,
    )
    return "rendered"


def _suppressed_ids(emails: list[Email]) -> set[int]:
    by_scope: dict[str, list[Email]] = {}
    for email in emails:
        if email.list_scope:
            by_scope.setdefault(email.list_scope, []).append(email)
    found: set[int] = set()
    for scope, members in by_scope.items():
        digests = suppressed_digests(digests=[e.recipient_digest for e in members], scope=scope)
        found.update(e.pk for e in members if e.recipient_digest in digests)
    return found


def _message_specific(exc: Exception) -> bool:
    """A refusal of this message (its recipient, its content): the connection goes on."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return False
    return isinstance(
        exc,
        smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused | AnymailRecipientsRefused,
    )


def _send_failed(*, email: Email, exc: Exception) -> str:
    permanent, reason = send_failure_classify(exc)
    if permanent or email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        with transaction.atomic():
            failed = Email.objects.filter(pk=email.pk, status=Email.Status.SENDING).update(
                status=Email.Status.FAILED, last_error=reason
            )
            if failed:
                email.status, email.last_error = Email.Status.FAILED, reason
                email_failed_permanently(email=email)
        logger.warning(
            "email failed permanently",
            extra={"email_id": email.pk, "kind": email.kind, "reason": reason},
        )
        return "failed"
    Email.objects.filter(pk=email.pk, status=Email.Status.SENDING).update(
        status=Email.Status.QUEUED,
        last_error=reason,
        dispatched_at=None,
        next_attempt_at=timezone.now() + email_retry_delay(email.attempts),
    )
    logger.info(
        "email send deferred",
        extra={"email_id": email.pk, "attempts": email.attempts, "reason": reason},
    )
    return "deferred"


def _emails_release(emails: list[Email], *, delay: timedelta | None = None) -> None:
    """Give claimed rows that were not tried back to the relay, without counting an attempt."""
    Email.objects.filter(pk__in=[e.pk for e in emails], status=Email.Status.SENDING).update(
        status=Email.Status.QUEUED,
        attempts=F("attempts") - 1,
        dispatched_at=None,
        next_attempt_at=timezone.now() + (delay or timedelta(0)),
    )


# The relay is one at a time across the cluster (a transaction-scoped advisory lock): a second
# run that overlaps (two beats at a hand-over, a run published by hand) returns at once instead
# of counting the same rows in flight and handing out twice as many.
_RELAY_LOCK = 0x0C0A_11F1


def emails_due_claim() -> list[tuple[list[int], str]]:
    """Mark due rows as handed out and return them by lane: ``[(ids, queue), ...]``.

    Per lane, at most OUTBOX_RELAY_BATCH rows a run, and never more than OUTBOX_IN_FLIGHT rows
    handed out and not yet sent: a wave of 100,000 letters sits in the database, not in Redis,
    where an outage would lose it and a confirmation would wait behind it. A row handed out but
    never claimed (the broker lost the task) is handed out again after
    OUTBOX_STUCK_AFTER_SECONDS, or at once after ``emails_dispatch_forget`` (the relay found the
    broker had lost its data).
    """
    now = timezone.now()
    lease_start = now - timedelta(seconds=settings.OUTBOX_STUCK_AFTER_SECONDS)
    due = (
        Email.objects.select_for_update(skip_locked=True)
        .filter(status=Email.Status.QUEUED, next_attempt_at__lte=now)
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=lease_start))
        .order_by("next_attempt_at")
    )
    lanes: list[tuple[list[int], str]] = []
    with transaction.atomic():
        if not _relay_lock_taken():
            return []
        # Two lanes, each with its own batch, bound and queue: however many letters are due, the
        # confirmation someone is waiting for is handed over in this run, to a queue that the
        # workers read in turn with the bulk one instead of behind it.
        for bulk, queue in (
            (False, settings.CELERY_TASK_DEFAULT_QUEUE),
            (True, settings.OUTBOX_BULK_QUEUE),
        ):
            room = settings.OUTBOX_IN_FLIGHT - _in_flight(bulk=bulk, lease_start=lease_start)
            limit = max(0, min(settings.OUTBOX_RELAY_BATCH, room))
            ids = list(due.filter(bulk=bulk).values_list("pk", flat=True)[:limit]) if limit else []
            lanes.append((ids, queue))
        Email.objects.filter(pk__in=[pk for ids, _queue in lanes for pk in ids]).update(
            dispatched_at=now
        )
    return lanes


def _relay_lock_taken() -> bool:
    from django.db import connection

    if connection.vendor != "postgresql":
        return True  # embedded mode: one process
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_RELAY_LOCK])
        row = cursor.fetchone()
    return bool(row and row[0])


def _in_flight(*, bulk: bool, lease_start: datetime) -> int:
    """Rows of a lane handed to the broker and not yet sent (the outbox_email_in_flight index)."""
    lane = Email.objects.filter(bulk=bulk, dispatched_at__isnull=False)
    sending = lane.filter(status=Email.Status.SENDING).count()
    waiting = lane.filter(status=Email.Status.QUEUED, dispatched_at__gte=lease_start).count()
    return sending + waiting


def emails_dispatch_forget() -> int:
    """The broker lost what it held (restarted empty, failed over to a replica that missed the
    last writes): rows handed to it and not yet claimed are handed out again by the next relay
    run instead of after OUTBOX_STUCK_AFTER_SECONDS. Only QUEUED rows: a row a worker is sending
    is not touched, so this adds no copy of any message (a task that did survive finds its row
    claimed or sent and does nothing)."""
    return Email.objects.filter(status=Email.Status.QUEUED, dispatched_at__isnull=False).update(
        dispatched_at=None
    )


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

"""Writing to the outbox. The only way any part of Coalition sends an email."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from coalition.mailbox import email_digest
from outbox.models import Email
from outbox.suppression import list_token_for, mailbox_suppressed, unsubscribe_url

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
    from outbox.tasks import outbox_send

    try:
        outbox_send.apply(args=(email_id,))
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

"""The suppression list and one-click unsubscribe (RFC 8058) of non-transactional mail.

Scopes: ``ALL`` covers every non-transactional mail of the platform (reminders to confirm,
reply surveys, every campaign's updates); ``campaign_scope(id)`` covers one campaign's updates.
An update's unsubscribe link stops that campaign's updates only (the signer chose them per
campaign, and may want another campaign's); reminders and surveys unsubscribe from ``ALL``, and
so do provider bounces and spam complaints. Transactional mail (a confirmation someone asked
for, sign-in mail) is never suppressed. The list is consulted when a row is queued and again
just before it is sent.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse

from outbox.models import Email, ListToken, Suppression

logger = logging.getLogger(__name__)

ALL = "all"


def campaign_scope(campaign_id: int) -> str:
    return f"campaign:{campaign_id}"


def mailbox_suppressed(*, digest: str, scope: str) -> bool:
    """Whether mail of ``scope`` may not go to this mailbox (its own scope, or everything)."""
    return Suppression.objects.filter(digest=digest, scope__in={scope, ALL}).exists()


def suppressed_digests(*, digests: list[str], scope: str) -> set[str]:
    return set(
        Suppression.objects.filter(digest__in=digests, scope__in={scope, ALL}).values_list(
            "digest", flat=True
        )
    )


# What other apps do when a mailbox leaves a list (e.g. campaigns clears the signature's
# "keep me informed" choice), per scope prefix.
UnsubscribeHook = Callable[[str, str], None]  # (digest, scope)
_HOOKS: dict[str, UnsubscribeHook] = {}


def unsubscribe_hook_register(*, scope_prefix: str, hook: UnsubscribeHook) -> None:
    _HOOKS[scope_prefix] = hook


@transaction.atomic
def suppression_add(*, digest: str, scope: str, reason: str) -> bool:
    """Suppress a mailbox for a scope and cancel its queued mail of that scope. Idempotent;
    True when the mailbox was not suppressed for the scope before."""
    if not digest:
        return False
    try:
        with transaction.atomic():
            Suppression.objects.create(digest=digest, scope=scope, reason=reason)
    except IntegrityError:
        return False
    queued = Email.objects.filter(recipient_digest=digest, status=Email.Status.QUEUED).exclude(
        list_scope=""
    )
    if scope != ALL:
        queued = queued.filter(list_scope=scope)
    queued.update(status=Email.Status.CANCELLED, last_error="suppressed")
    for prefix, hook in _HOOKS.items():
        if scope == ALL or scope.startswith(prefix):
            hook(digest, scope)
    logger.info("mailbox suppressed", extra={"scope": scope, "reason": reason})
    return True


def list_token_for(*, digest: str, scope: str) -> str:
    """The mailbox's token on this list, made once (concurrent callers get the same one)."""
    existing = ListToken.objects.filter(digest=digest, scope=scope).first()
    if existing is not None:
        return existing.token
    try:
        with transaction.atomic():
            return ListToken.objects.create(
                digest=digest, scope=scope, token=secrets.token_urlsafe(18)
            ).token
    except IntegrityError:
        return ListToken.objects.get(digest=digest, scope=scope).token


def list_tokens_for(*, digests: list[str], scope: str) -> dict[str, str]:
    """``list_token_for`` for many mailboxes in three queries (a fan-out's batch)."""
    found = dict(
        ListToken.objects.filter(digest__in=digests, scope=scope).values_list("digest", "token")
    )
    missing = [d for d in dict.fromkeys(digests) if d not in found]
    if missing:
        ListToken.objects.bulk_create(
            [ListToken(digest=d, scope=scope, token=secrets.token_urlsafe(18)) for d in missing],
            ignore_conflicts=True,  # a concurrent maker won: its token is read back below
        )
        found |= dict(
            ListToken.objects.filter(digest__in=missing, scope=scope).values_list("digest", "token")
        )
    return found


def mailbox_forget(*, digest: str) -> None:
    """Erasure: drop what ties the mailbox to a campaign (its tokens, its per-campaign
    suppressions: the signatures they were about are gone). A suppression of all mail stays,
    naming no campaign: erasing must never subscribe someone again."""
    ListToken.objects.filter(digest=digest).delete()
    Suppression.objects.filter(digest=digest).exclude(scope=ALL).delete()


def list_token_read(token: str) -> ListToken | None:
    if not token or len(token) > 40:
        return None
    return ListToken.objects.filter(token=token).first()


def unsubscribe_url(token: str) -> str:
    return settings.SITE_URL + reverse("outbox:unsubscribe", args=[token])


def unsubscribe_mailto(token: str) -> str:
    local, _at, domain = settings.OUTBOX_UNSUBSCRIBE_MAILBOX.partition("@")
    return f"mailto:{local}+{token}@{domain}"


def list_headers(token: str) -> dict[str, str]:
    """RFC 8058: an https URI for the one-click POST, and a mailto: for clients without it."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(token)}>, <{unsubscribe_mailto(token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def unsubscribe(*, token: str, everything: bool = False) -> ListToken | None:
    """Honour an unsubscribe at once: the token's list (or, on request, all such mail)."""
    found = list_token_read(token)
    if found is None:
        return None
    suppression_add(
        digest=found.digest,
        scope=ALL if everything else found.scope,
        reason=Suppression.Reason.UNSUBSCRIBED,
    )
    return found


def token_from_address(address: str) -> str:
    """The token in ``unsubscribe+<token>@domain`` (the mailto: of List-Unsubscribe)."""
    local = address.partition("@")[0]
    prefix = settings.OUTBOX_UNSUBSCRIBE_MAILBOX.partition("@")[0] + "+"
    return local[len(prefix) :] if local.startswith(prefix) else ""


def complaints_and_sent(*, since: datetime) -> tuple[int, int]:
    """Spam complaints recorded and mails sent since then (the staff figures' complaint rate)."""
    complaints = Suppression.objects.filter(
        reason=Suppression.Reason.COMPLAINED, created_at__gte=since
    ).count()
    sent = Email.objects.filter(Q(status=Email.Status.SENT), sent_at__gte=since).count()
    return complaints, sent

"""Erasure and retention of signers' personal data.

Counts survive (they are pre-aggregated and anonymous); the people do not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns import events
from campaigns.models import Campaign, Signature
from campaigns.services import signature_delete
from campaigns.signing import email_digest
from foundation.crypto import mfa_secrets_map, rotate
from outbox.models import Email
from outbox.suppression import mailbox_forget
from privacy.models import DigestAlias

logger = logging.getLogger(__name__)

# Every encrypted column, for key rotation.
ENCRYPTED_COLUMNS = {
    "campaigns.Signature": ["name", "email", "city"],
    "outbox.Email": ["to", "from_email", "reply_to", "subject", "body_text", "body_html"],
    "evidence.CaseReport": ["email", "account", "other_answers"],
}


# Other apps that hold rows keyed on a mailbox's digest (e.g. the agenda's proposals and
# supports) delete them here, in the erasure's transaction; privacy imports none of them.
ErasureHook = Callable[[str], int]  # digest -> rows deleted
_ERASURE_HOOKS: list[ErasureHook] = []


def erasure_hook_register(hook: ErasureHook) -> None:
    if hook not in _ERASURE_HOOKS:  # ready() may run twice in tests; register once
        _ERASURE_HOOKS.append(hook)


def signer_erase_by_digest(*, digest: str) -> int:
    """Erase from a link: the token carries only the keyed hash of the address.

    A link mailed before the normalization last changed carries the digest of its day; the
    migration that re-keyed the rows left a DigestAlias pointing to the digest now.
    """
    current = DigestAlias.objects.filter(old_digest=digest).values_list("digest", flat=True)
    return _erase(current.first() or digest)


def signer_erase(*, email: str) -> int:
    """Erase everything held for the mailbox this address reaches, whatever its spelling."""
    return _erase(email_digest(email))


@transaction.atomic
def _erase(digest: str) -> int:
    """Delete every signature made with this mailbox, and the mail we still hold for it.

    The digest is the mailbox's (foundation/mailbox.py), so ``Victim.Person+x@gmail.com`` and
    ``victimperson@googlemail.com`` are one. Outbox rows to it are deleted unless they are being
    sent right now; letters a signer already sent stay (they are the officials' mail now, and
    are addressed to the officials), but lose the link to the signer.
    """
    signatures = list(Signature.objects.select_for_update().filter(email_digest=digest))
    events.event_emit(events.PERSON_ERASED, signatures=signatures)
    for signature in signatures:
        signature_delete(signature)
    erased = len(signatures)
    for hook in _ERASURE_HOOKS:
        erased += hook(digest)
    mail, _by_model = (
        Email.objects.filter(recipient_digest=digest, letter__isnull=True)
        .exclude(status=Email.Status.SENDING)
        .delete()
    )
    mailbox_forget(digest=digest)  # unsubscribe tokens and per-campaign suppressions
    logger.info("signer data erased", extra={"signatures": erased, "emails": mail})
    return erased


def retention_purge(*, now: datetime | None = None) -> int:
    """Delete signers' personal data a set time after their campaign closed."""
    now = now or timezone.now()
    cutoff = now - settings.PERSONAL_DATA_RETENTION_AFTER_CLOSE
    # High-security campaigns (campaigns/services/security.py) keep it a shorter time.
    high_security_cutoff = now - settings.HIGH_SECURITY_RETENTION_AFTER_CLOSE
    purged = 0
    for campaign_id in Campaign.objects.filter(
        Q(closed_at__lt=cutoff) | Q(high_security=True, closed_at__lt=high_security_cutoff),
        status=Campaign.Status.CLOSED,
    ).values_list("pk", flat=True):
        with transaction.atomic():
            # Closed campaigns' counts are final: delete without touching them.
            deleted, _by_model = Signature.objects.filter(
                petition__campaign_id=campaign_id
            ).delete()
            purged += deleted
    unconfirmed, _by_model = Signature.objects.filter(
        status=Signature.Status.PENDING,
        created_at__lt=now - settings.UNCONFIRMED_SIGNATURE_RETENTION,
    ).delete()
    # Sent mail to signers is kept only as long as it is useful for support.
    old_mail, _by_model = (
        Email.objects.filter(
            status__in=[Email.Status.SENT, Email.Status.FAILED, Email.Status.CANCELLED],
            created_at__lt=now - settings.SENT_MAIL_RETENTION,
        )
        .exclude(kind__startswith="outreach.")
        .delete()
    )
    return purged + unconfirmed + old_mail


def _authenticators_rotate() -> int:
    authenticator_model = apps.get_model("mfa", "Authenticator")
    rotated = 0
    # A handful of rows (one or two per person with two-factor sign-in): no batching needed.
    for authenticator in authenticator_model.objects.all():
        data = mfa_secrets_map(authenticator.data, rotate)
        if data != authenticator.data:
            authenticator_model.objects.filter(pk=authenticator.pk).update(data=data)
            rotated += 1
    return rotated


def keys_rotate(*, batch: int = 1000) -> int:
    """Re-encrypt every encrypted value under the newest key. Safe to run again."""
    rotated = _authenticators_rotate()
    for label, columns in ENCRYPTED_COLUMNS.items():
        model = apps.get_model(label)
        table = model._meta.db_table
        quoted = [model._meta.get_field(c).column for c in columns]
        names = ", ".join(connection.ops.quote_name(c) for c in quoted)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, {names} FROM {table}")  # noqa: S608 - our own names
            rows = cursor.fetchall()
        for row in rows:
            values = [rotate(v) if v else v for v in row[1:]]
            assignments = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in quoted)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608 - our names
                    [*values, row[0]],
                )
            rotated += 1
    return rotated

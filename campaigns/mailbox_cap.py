"""One daily cap on the mail anyone can cause to be sent to any address by typing it into a
public form: signing (campaigns), case reports (evidence) and the emigre agenda (agenda).

Each form checks the same list of kinds against the same setting under the same lock, so the
total reaching one mailbox (every spelling of it: outbox rows carry the mailbox's digest) in 24
hours is at most ``SIGNATURE_MAILS_PER_MAILBOX`` whichever forms were used; with a cap per form,
three forms were three budgets. A form that can send a new kind of mail to a typed address adds
the kind here.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from outbox.selectors import emails_to_mailbox_reach

# Mail sent to the address typed into a public form, by the form or by what it started.
PUBLIC_FORM_MAIL_KINDS = (
    # signing: the confirmation, "you signed already", the reminder of an unconfirmed signature
    "campaigns.confirm",
    "campaigns.already_signed",
    "campaigns.reminder",
    # case reports: the confirmation
    "evidence.confirm",
    # the emigre agenda: a proposal's and a support's confirmation, "you supported already"
    "agenda.proposal_confirm",
    "agenda.support_confirm",
    "agenda.support_already",
)
_MAILBOX_LOCK = 0x5167  # first key of the advisory lock on one mailbox's public-form mail


def mailbox_lock(digest: str) -> None:
    """Serialize the public forms' requests for one mailbox until the transaction ends, so that
    concurrent requests (through any of the forms) cannot each find the mailbox under its cap
    and all send (PostgreSQL only; SQLite, for development, runs one writer at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [_MAILBOX_LOCK, int(digest[:8], 16) - 2**31],
            )


def mailbox_may_be_mailed(digest: str) -> bool:
    """Under SIGNATURE_MAILS_PER_MAILBOX public-form mails in the last 24 hours, all forms,
    petitions, reports and proposals together. Take ``mailbox_lock`` first."""
    return not emails_to_mailbox_reach(
        digest=digest,
        kinds=PUBLIC_FORM_MAIL_KINDS,
        since=timezone.now() - timedelta(days=1),
        cap=settings.SIGNATURE_MAILS_PER_MAILBOX,
    )

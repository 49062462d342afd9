"""One daily cap on the mail anyone can cause to be sent to any address by typing it into a
public form: signing (campaigns), case reports (evidence) and the emigre agenda (agenda); and
a second one, of the same size, on the account forms' mail (allauth: password reset, sign-up,
login code), kept apart so that a flood of petition signatures in someone's name cannot stop an
organization's admin from resetting their password.

Each form checks the same list of kinds against the same setting under the same lock, so the
total reaching one mailbox (every spelling of it: outbox rows carry the mailbox's digest) in 24
hours is at most ``SIGNATURE_MAILS_PER_MAILBOX`` whichever forms were used; with a cap per form,
three forms were three budgets. A form that can send a new kind of mail to a typed address adds
the kind here. Kept in the outbox (the lowest layer that knows mail) so that every app that
sends such mail, accounts included, can use it.
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
# What allauth sends to an address typed into the password-reset, sign-up or login-code form
# (members.adapters.AccountAdapter.send_mail, kind "account.<template>"): without a cap, allauth's
# per-address limits count the address as typed, so its spellings (dots, +tags) each had a budget.
ACCOUNT_FORM_MAIL_KINDS = (
    "account.unknown_account",
    "account.account_already_exists",
    "account.password_reset_key",
    "account.email_confirmation",
    "account.email_confirmation_signup",
    "account.login_code",
)
_MAILBOX_LOCK = 0x5167  # first key of the advisory lock on one mailbox's public-form mail


def _mailbox_lock(digest: str) -> None:
    """Serialize the public forms' requests for one mailbox until the transaction ends, so that
    concurrent requests (through any of the forms) cannot each find the mailbox under its cap
    and all send (PostgreSQL only; SQLite, for development, runs one writer at a time anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [_MAILBOX_LOCK, int(digest[:8], 16) - 2**31],
            )


def mailbox_may_be_mailed(digest: str, *, kinds: tuple[str, ...] = PUBLIC_FORM_MAIL_KINDS) -> bool:
    """Under SIGNATURE_MAILS_PER_MAILBOX mails of ``kinds`` in the last 24 hours: by default the
    public forms', all petitions, reports and proposals together.

    Call it inside the transaction that queues the mail: it first takes the mailbox's lock, held
    until that transaction ends, so the answer stays true until the mail row is written."""
    _mailbox_lock(digest)
    return not emails_to_mailbox_reach(
        digest=digest,
        kinds=kinds,
        since=timezone.now() - timedelta(days=1),
        cap=settings.SIGNATURE_MAILS_PER_MAILBOX,
    )

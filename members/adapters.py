"""django-allauth hooks: account mail goes through the outbox; IPs are only ever hashed; the
second factor's secrets are encrypted at rest."""

from __future__ import annotations

import logging
import time
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.http import HttpRequest

from foundation import crypto
from foundation.mailbox import email_digest
from foundation.ratelimit import RateLimited, client_fingerprint
from outbox.mailbox_cap import ACCOUNT_FORM_MAIL_KINDS, mailbox_may_be_mailed
from outbox.services import email_enqueue

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # Rendering stays allauth's; sending leaves the request: a slow or down SMTP server must
        # not make sign-up fail or hang, and a failed send is retried by the outbox.
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        html = ""
        if isinstance(message, EmailMultiAlternatives):
            html = next(
                (str(body) for body, mime in message.alternatives if mime == "text/html"), ""
            )
        kind = "account." + template_prefix.rsplit("/", 1)[-1]
        with transaction.atomic():
            if kind in ACCOUNT_FORM_MAIL_KINDS:
                # Mail to an address anyone can type into a form: one daily budget per mailbox,
                # every spelling of it (outbox/mailbox_cap.py). Past it nothing is sent and the
                # page answers as usual (allauth shows the same page whether or not it mails).
                if not mailbox_may_be_mailed(email_digest(email), kinds=ACCOUNT_FORM_MAIL_KINDS):
                    logger.warning("account mail cap reached; mail dropped", extra={"kind": kind})
                    return
            email_enqueue(
                kind=kind,
                to=email,
                subject=str(message.subject),
                body_text=str(message.body),
                body_html=html,
            )

    def validation_error(self, code: str, *args: Any) -> ValidationError:
        # allauth answers a lockout with a form error (200); like every other limit here, it
        # should be a 429 with Retry-After that a client or a monitoring system can recognise.
        # Every lockout allauth raises comes through here: the password step's
        # (pre_authenticate, the login form) and the second factor's (guessing codes after a
        # stolen password), so both are answered alike.
        if code == "too_many_login_attempts":
            logger.warning("login locked out", extra={"scope": "login_failed"})
            raise RateLimited("login_failed", retry_after=300)
        return super().validation_error(code, *args)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """A password typed at sign-in counts as the "confirm it is you" step for the next
        ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds (300), as a re-entered one would: an admin
        sent to set up two-factor sign-in right after signing in is not asked for it again. A
        session older than that, or one opened by a link alone, is still asked."""
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False
        request = allauth_context.request
        user = getattr(request, "user", None)
        if request is None or user is None or not user.is_authenticated:
            return True
        now = time.time()
        return not any(
            record.get("method") == "password"
            and now - float(record.get("at", 0)) < account_settings.REAUTHENTICATION_TIMEOUT
            for record in get_authentication_records(request, user)
        )

    def get_client_ip(self, request: HttpRequest) -> str:
        # allauth keys its login/sign-up rate limits by this value; a keyed hash keeps plain
        # addresses out of the cache.
        return client_fingerprint(request)


class MFAAdapter(DefaultMFAAdapter):
    """TOTP keys and the recovery-code seed, Fernet-encrypted like signers' data (privacy/).

    In the clear, a copy of the database (a leaked backup, a read-only SQL injection) would hand
    over every admin's second factor; encrypted, it also takes COALITION_ENCRYPTION_KEYS, which
    are kept apart from the data. `manage.py rotate_encryption_keys` re-encrypts them too.
    """

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        return crypto.decrypt(encrypted_text)

"""DKIM signing of outgoing mail (dkimpy), when a key is configured.

The operator publishes the public key at ``<selector>._domainkey.<domain>`` (docs/deploy.md) and
gives the private key in the environment. Signing happens when the message is rendered for the
SMTP (or provider) hand-off, so the signature covers exactly the headers and body that leave.
"""

from __future__ import annotations

from email.message import Message
from email.utils import parseaddr
from typing import Any

import dkim
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.core.mail import EmailMultiAlternatives

# From, Subject, Date, Message-ID and To, the unsubscribe headers (a forged one-click link
# must break the signature), and the rest that shape what the reader sees.
SIGNED_HEADERS = [
    b"From",
    b"Sender",
    b"Reply-To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"To",
    b"Cc",
    b"MIME-Version",
    b"Content-Type",
    b"Content-Transfer-Encoding",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"Auto-Submitted",
]


def dkim_enabled() -> bool:
    return bool(settings.DKIM_PRIVATE_KEY and settings.DKIM_SELECTOR and settings.DKIM_DOMAIN)


def dkim_sign(data: bytes) -> bytes:
    """The value of the DKIM-Signature header for this message (relaxed/relaxed, rsa-sha256)."""
    header = dkim.sign(
        data,
        selector=settings.DKIM_SELECTOR.encode(),
        domain=settings.DKIM_DOMAIN.encode(),
        privkey=settings.DKIM_PRIVATE_KEY.encode(),
        include_headers=SIGNED_HEADERS,
        canonicalize=(b"relaxed", b"relaxed"),
    )
    name, _colon, value = header.partition(b":")
    assert name == b"DKIM-Signature"  # noqa: S101 - dkimpy's documented output
    return value


class SignedMessage(EmailMultiAlternatives):
    """An outbox message that DKIM-signs itself when rendered, if a key is configured."""

    def message(self, *args: Any, **kwargs: Any) -> Message:  # type: ignore[override]
        msg = super().message(*args, **kwargs)
        if not dkim_enabled():
            return msg
        value = dkim_sign(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
        # Added as dkimpy folded it (set_raw: not parsed, not folded again), so the bytes that
        # leave carry the signature over exactly the headers and body signed above.
        msg.set_raw("DKIM-Signature", value.decode().strip())
        return msg


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower()


@register(Tags.compatibility, deploy=True)
def from_aligned_with_dkim(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """DMARC passes only if the From domain is the DKIM domain (or under it, relaxed): mail
    From another domain would be signed and still refused."""
    if not dkim_enabled():
        return []
    wanted = settings.DKIM_DOMAIN.lower()
    problems: list[CheckMessage] = []
    for name in ("DEFAULT_FROM_EMAIL", "OUTREACH_FROM_ADDRESS"):
        domain = _domain(getattr(settings, name))
        if domain != wanted and not domain.endswith("." + wanted):
            problems.append(
                Warning(
                    f"{name} is on {domain or '(no domain)'}, not on the DKIM domain {wanted}: "
                    "receivers applying DMARC will refuse its mail.",
                    id="outbox.W001",
                )
            )
    return problems

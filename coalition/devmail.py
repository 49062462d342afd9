"""Development mail: one readable ``.eml`` file per message, and the reader behind /dev/mail/.

Django's file backend appends a whole connection's messages to one ``.log`` file, encodes Russian
bodies as base64 and lets quoted-printable split links mid-path, and names files so that they do
not sort by time. In development (``make run`` without ``EMAIL_HOST``) every message is instead
one file, ``<UTC time to the microsecond>-<n>.eml``, whose text parts are UTF-8 in 8-bit
transfer encoding: ``ls var/mail`` sorts them oldest first, any text editor shows the body as
written, and every link is on one line. The development-only page ``/dev/mail/`` lists them newest
first with decoded bodies and clickable links (``coalition.views.dev_mailbox``).
"""

from __future__ import annotations

import email
import email.policy
import itertools
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.html import strip_tags

_counter = itertools.count()
BACKEND = "coalition.devmail.EmailBackend"


def eight_bit(message: MimeMessage) -> MimeMessage:
    """The same message with every text part re-encoded as UTF-8 in 8-bit transfer encoding."""
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_filename():  # an attachment stays as it was
            continue
        text = part.get_content()
        part.set_content(text, subtype=part.get_content_subtype(), charset="utf-8", cte="8bit")
    return message


class EmailBackend(BaseEmailBackend):
    """Writes each message to ``<file_path>/<time>-<n>.eml`` (UTF-8, 8-bit, sorts by time)."""

    def __init__(self, *, fail_silently: bool = False, file_path: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.fail_silently = fail_silently
        self.file_path = Path(file_path or settings.MAIL_DIR)

    def send_messages(self, email_messages: Any) -> int:
        sent = 0
        self.file_path.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            try:
                mime = message.message(policy=email.policy.SMTPUTF8)
                data = eight_bit(mime).as_bytes(policy=email.policy.SMTPUTF8.clone(linesep="\n"))
                stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
                name = f"{stamp}-{os.getpid()}-{next(_counter):04d}.eml"
                partial = self.file_path / f".{name}.part"
                partial.write_bytes(data)
                partial.rename(self.file_path / name)  # a reader never sees half a message
                sent += 1
            except OSError:
                if not self.fail_silently:
                    raise
        return sent


@dataclass(frozen=True)
class DevMessage:
    name: str
    subject: str
    sender: str
    to: str
    date: str
    text: str
    html: bool


def _body(message: MimeMessage) -> tuple[str, bool]:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", False
    content = str(part.get_content())
    if part.get_content_subtype() == "html":
        return strip_tags(content), True
    return content, False


def mailbox_read(directory: Path | None = None, *, limit: int = 200) -> list[DevMessage]:
    """The newest ``limit`` messages in the development mail folder, newest first."""
    directory = Path(directory or settings.MAIL_DIR)
    if not directory.is_dir():
        return []
    files = sorted((p for p in directory.glob("*.eml") if p.is_file()), reverse=True)[:limit]
    messages = []
    for path in files:
        parsed = cast(
            MimeMessage, email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        )
        text, html = _body(parsed)
        messages.append(
            DevMessage(
                name=path.name,
                subject=str(parsed.get("Subject", "")),
                sender=str(parsed.get("From", "")),
                to=str(parsed.get("To", "")),
                date=str(parsed.get("Date", "")),
                text=text,
                html=html,
            )
        )
    return messages


def mailbox_enabled() -> bool:
    """The reader is for a developer's own machine: debug mode and this backend, nothing else."""
    return bool(settings.DEBUG) and settings.MAILERS.get("default", {}).get("BACKEND") == BACKEND

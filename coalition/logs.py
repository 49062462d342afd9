"""Nothing that identifies a person leaves through our logs or error reports.

Logs are copied, shipped and kept far longer than a signer's link should be readable, and an
error report (a mail to admins, a debug page) is worse: Django's default one lists every request
header (the client's address, its user agent, cookies) and what was posted. So:

- ``PrivacyFilter`` sits on every handler. It replaces a request's path by its redacted form
  (coalition.middleware.redacted_path: tokens become REDACTED), drops the request object from the
  record so no handler or formatter can read its headers, and scrubs from the message, the
  traceback and every extra field: the request's address, forwarded addresses, user agent,
  query string and secret URL arguments, and any IPv4 or IPv6 address or email address at all.
- ``PrivacyExceptionReporterFilter`` / ``PrivacyExceptionReporter`` (DEFAULT_EXCEPTION_REPORTER*):
  an error report holds no request headers, cookies, query, posted fields or frame variables
  (a frame's locals hold tokens and addresses), and names the redacted path only.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from coalition.middleware import PUBLIC_URL_ARGUMENTS, redacted_path
from foundation import crypto

SCRUBBED = "[redacted]"
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
# Candidates only: each is kept unless it parses as an IPv6 address (times like 17:22:19 do not).
_IPV6 = re.compile(r"(?<![0-9A-Za-z:])[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f.]*(?![0-9A-Za-z:])")
# Attributes every LogRecord has whose text we never need to scrub (names of code, not data).
_CODE_ATTRIBUTES = frozenset(
    {
        "name",
        "levelname",
        "pathname",
        "filename",
        "module",
        "funcName",
        "threadName",
        "processName",
        "taskName",
        "request_id",
    }
)


def _ipv6_scrub(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        return text
    return SCRUBBED


def scrub(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """The text without the given secrets, any IP address or any email address (an SMTP or a
    mail provider's error names its recipient)."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, SCRUBBED)
    text = _IPV4.sub(SCRUBBED, text)
    return crypto.scrub(_IPV6.sub(_ipv6_scrub, text))


def request_secrets(request: HttpRequest) -> list[str]:
    """What of a request must never be written down: who sent it and its secret arguments."""
    meta = request.META
    found = [
        str(meta.get(name, ""))
        for name in (
            "REMOTE_ADDR",
            "REMOTE_HOST",
            "HTTP_USER_AGENT",
            "HTTP_X_FORWARDED_FOR",
            "HTTP_X_REAL_IP",
            "HTTP_FORWARDED",
            "HTTP_REFERER",
            "HTTP_COOKIE",
            "QUERY_STRING",
        )
    ]
    found += [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    match = getattr(request, "resolver_match", None)
    if match is not None:
        found += [
            str(value)
            for name, value in match.kwargs.items()
            if name not in PUBLIC_URL_ARGUMENTS and value not in (None, "")
        ]
        found += [str(value) for value in match.args if value not in (None, "")]
    if request.path != redacted_path(request):
        found.append(request.path)
    return found


class PrivacyFilter(logging.Filter):
    """On every handler: see the module docstring. It changes the record in place, so every
    handler after the first sees the cleaned record too."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets: list[str] = []
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            if isinstance(record.args, tuple):
                record.args = tuple(
                    redacted_path(request) if arg == request.path else arg for arg in record.args
                )
            secrets = request_secrets(request)
            record.request = None
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string: keep the template, drop the arguments
            message = str(record.msg)
        record.msg, record.args = scrub(message, secrets), ()
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = scrub(text, secrets), None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, secrets)
        for key, value in list(vars(record).items()):
            if key in _CODE_ATTRIBUTES or key in {"msg", "exc_text", "stack_info"}:
                continue
            if isinstance(value, str):
                setattr(record, key, scrub(value, secrets))
            elif isinstance(value, HttpRequest):
                setattr(record, key, None)
        return True


class PrivacyExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports (admin mails, the debug page) carry no request headers, posted fields or
    frame variables: the code's location and the exception say what went wrong."""

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        return {}

    def get_post_parameters(self, request: HttpRequest | None) -> dict[str, Any]:
        return {}

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        return []


class PrivacyExceptionReporter(ExceptionReporter):
    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        request = self.request
        secrets = request_secrets(request) if request is not None else []
        for key in ("request_GET_items", "request_FILES_items", "request_COOKIES_items"):
            if key in data:
                data[key] = []
        if request is not None:
            # The templates read the request object itself (its path, its URI): none of it.
            data["request"] = None
            data["request_insecure_uri"] = redacted_path(request)
            data["request_meta"] = {}
        for key in ("exception_value", "exception_notes"):
            if isinstance(data.get(key), str):
                data[key] = scrub(data[key], secrets)
        return data

    def get_traceback_text(self) -> SafeString:
        secrets = request_secrets(self.request) if self.request is not None else []
        return mark_safe(scrub(super().get_traceback_text(), secrets))  # noqa: S308 - ours

    def get_traceback_html(self) -> SafeString:
        # Scrubbing only removes text from the escaped page Django rendered: still safe.
        secrets = request_secrets(self.request) if self.request is not None else []
        return mark_safe(scrub(super().get_traceback_html(), secrets))  # noqa: S308

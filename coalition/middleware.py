"""Request ids: every log line of a request carries the same id, and the response returns it."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, DisallowedHost, RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.http import parse_header_parameters

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
# A proxy may hand us its own id; accept only a short token so logs can't be forged or flooded.
_INCOMING_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class PrivacyHeadersMiddleware:
    """Headers every response needs for the people we protect.

    Permissions-Policy switches off browser features we never use. Pages for signed-in people
    and signer links carry personal data, so no browser or proxy may store them.
    """

    PERMISSIONS = (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=(), interest-cohort=(), browsing-topics=()"
    )
    PRIVATE_PREFIXES = (
        "/signatures/", "/letters/", "/accounts/", "/organizations/", "/staff", "/privacy/erase/",
    )  # fmt: skip

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.PERMISSIONS)
        if self._signed_in(request) or request.path.startswith(self.PRIVATE_PREFIXES):
            response["Cache-Control"] = "no-store, private"
        return response

    @staticmethod
    def _signed_in(request: HttpRequest) -> bool:
        from django.db import InterfaceError, OperationalError

        user = getattr(request, "user", None)
        if user is None:
            return False
        try:
            return bool(user.is_authenticated)
        except (OperationalError, InterfaceError):
            # The database is away (the answer is DatabaseUnavailableMiddleware's 503): we cannot
            # tell who asks, so assume someone signed in and let nobody store the answer.
            return True


class OnionServiceMiddleware:
    """The site served as a Tor onion service beside the clearnet domain (settings.ONION_HOST).

    Requests under the onion host come from the local tor daemon over plain http, which is the
    onion's own transport (Tor encrypts it end to end, and Tor Browser treats .onion as a secure
    context). Django's SecurityMiddleware would redirect them to an https the onion does not
    have, so for those requests only it is told they are secure (the proxy header it trusts) and
    ``OnionServiceRestoreMiddleware``, right after it, takes that back before anything else reads
    it: no HSTS, no https links, and CSRF compares the real http origin.

    On the clearnet site, public pages read by someone not signed in announce the onion with an
    ``Onion-Location`` header; never a signer's link, a private page or an error.
    """

    _MARK = "coalition.onion_saved_proto"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from foundation.ratelimit import is_onion_host, is_onion_request

        onion = is_onion_request(request)
        if not onion and is_onion_host(request):
            # The onion's name, but not through the onion's port: a clearnet client pretending
            # (it would be counted as a Tor user, without per-address limits). Django's 400.
            raise DisallowedHost("The onion host is served only through the onion service.")
        proxy_header = settings.SECURE_PROXY_SSL_HEADER
        if onion and proxy_header:
            header, secure_value = proxy_header
            request.META[self._MARK] = request.META.get(header)
            request.META[header] = secure_value
        response = self.get_response(request)
        if not onion and self._announces_onion(request, response):
            response["Onion-Location"] = f"http://{settings.ONION_HOST}{request.get_full_path()}"
        return response

    @staticmethod
    def _announces_onion(request: HttpRequest, response: HttpResponse) -> bool:
        if not settings.ONION_HOST or request.method not in {"GET", "HEAD"}:
            return False
        if response.status_code != 200 or not response.get("Content-Type", "").startswith(
            "text/html"
        ):
            return False
        cache_control = response.get("Cache-Control", "")
        if "private" in cache_control or "no-store" in cache_control:
            return False  # never_cache pages: signer links, forms holding a token
        if request.path.startswith(PrivacyHeadersMiddleware.PRIVATE_PREFIXES):
            return False
        return not PrivacyHeadersMiddleware._signed_in(request)


class OnionServiceRestoreMiddleware:
    """Undoes what OnionServiceMiddleware told SecurityMiddleware (see there)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        mark = OnionServiceMiddleware._MARK
        if mark in request.META and settings.SECURE_PROXY_SSL_HEADER:
            header = settings.SECURE_PROXY_SSL_HEADER[0]
            saved = request.META.pop(mark)
            if saved is None:
                request.META.pop(header, None)
            else:
                request.META[header] = saved
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """The database is down or restarting: answer 503 with Retry-After, never a 500.

    Nothing was acknowledged to the client, so it can safely try again; every request that did
    get a success answer had its transaction committed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.db import InterfaceError, OperationalError

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logging.getLogger(__name__).error("database unavailable: %s", type(exception).__name__)
        if request.path.startswith("/api/"):
            response: HttpResponse = HttpResponse(
                json.dumps(
                    {
                        "type": "about:blank",
                        "title": "Service Unavailable",
                        "status": 503,
                        "detail": "The service is briefly unavailable. Nothing was saved; "
                        "please try again.",
                    }
                ),
                status=503,
                content_type="application/problem+json",
            )
        else:
            response = HttpResponse(
                _UNAVAILABLE_PAGE, status=503, content_type="text/html; charset=utf-8"
            )
        response["Retry-After"] = "30"
        return response


# Static on purpose: rendering a template could itself need the database (sessions, users).
_UNAVAILABLE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Briefly unavailable · Coalition</title><link rel="stylesheet" href="/static/css/site.css">
</head><body><main class="wrap"><h1>Briefly unavailable · Временно недоступно</h1>
<p>Nothing was saved. Please try again in a minute.</p>
<p lang="ru">Ничего не сохранено. Попробуйте ещё раз через минуту.</p></main></body></html>"""


def _decodes_text(charset: str) -> bool:
    try:
        b"x\xff".decode(charset, "replace")
    except (LookupError, UnicodeError):
        return False
    return True


def text_charset_only(request: HttpRequest, meta: dict[str, Any]) -> None:
    """Django's ``HttpRequest._set_content_type_params`` (installed in coalition/apps.py), but a
    charset that decodes no text is ignored like an unknown one instead of crashing the request's
    construction."""
    try:
        request.content_type, request.content_params = parse_header_parameters(
            meta.get("CONTENT_TYPE", "")
        )
    except ValueError as exc:
        raise BadRequest("Invalid Content-Type header.") from exc
    charset = request.content_params.get("charset")
    if charset and _decodes_text(charset):
        request.encoding = charset


class TextCharsetMiddleware:
    """A request charset that decodes no text (rot13, base64, hex, idna) is treated as unknown.

    Django accepts any codec name as the body's charset and its parsers then crash with a 500;
    for unknown names it already falls back to DEFAULT_CHARSET, which we do here too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.encoding and not _decodes_text(request.encoding):
            request.encoding = None  # type: ignore[assignment]
        return self.get_response(request)


_FORM = "application/x-www-form-urlencoded"


class NulCharacterMiddleware:
    """A NUL character in the path, the query or a posted form answers 400 before any view.

    PostgreSQL cannot store or compare text containing NUL, so one reaching a query raised a
    500 (/campaigns/?issue_area=%00). Forms refuse it field by field, but the many small reads
    of request.GET (filters, paging, sources) cannot all be trusted to; no legitimate request
    carries one. Multipart bodies are left to the forms: reading them here would stream uploads
    before the views' own size checks.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._carries_nul(request):
            return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _carries_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path:
            return True
        if any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return True
        if request.method == "POST" and request.content_type == _FORM:
            # The raw body, not request.POST: parsing it here would turn the views' own answers
            # to a malformed body (too many fields, an undecodable charset) into Django's
            # generic ones. In a urlencoded body a NUL is either the byte or "%00"; a literal
            # "%00" typed by someone arrives as "%2500".
            try:
                body = request.body
            except RequestDataTooBig:
                return False  # the view answers with its own size limit
            return b"\x00" in body or b"%00" in body
        return False

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse:
        logging.getLogger(__name__).info("refused a request carrying a NUL character")
        if request.path.startswith("/api/"):
            # The shape of api.problems.invalid_body, which the API's OpenAPI document promises
            # for every 400 (the foundation layer does not import the api app).
            detail = "The request contains a NUL character, which no field accepts."
            return HttpResponse(
                json.dumps(
                    {
                        "type": "about:blank",
                        "title": "Invalid input",
                        "status": 400,
                        "detail": detail,
                        "errors": {"non_field_errors": [detail]},
                    }
                ),
                status=400,
                content_type="application/problem+json",
            )
        return HttpResponse(_NUL_PAGE, status=400, content_type="text/html; charset=utf-8")


# Static, like _UNAVAILABLE_PAGE: the refusal comes before the language is chosen.
_NUL_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Bad request · Coalition</title><link rel="stylesheet" href="/static/css/site.css">
</head><body><main class="wrap"><h1>Bad request · Неверный запрос</h1>
<p>The address or the form contains a character that is never accepted (NUL). Nothing was saved.
</p><p lang="ru">Адрес или форма содержит недопустимый символ (NUL). Ничего не сохранено.</p>
<p><a href="/">Coalition</a></p></main></body></html>"""


# URL arguments that identify public things (slugs, numeric ids, admin actions). Every other
# argument a route takes (signer and invitation tokens, allauth's keys, catch-all paths) is
# a secret or may hold one, so an access log line never shows it: a log is copied, shipped and
# kept far longer than a signer's link should be readable.
PUBLIC_URL_ARGUMENTS = frozenset(
    {"slug", "org", "pk", "id", "action", "delivery", "object_id", "content_type_id", "app_label"}
)
REDACTED = "REDACTED"


def redacted_path(request: HttpRequest) -> str:
    """The request's path with every non-public URL argument replaced, by the resolved route.

    A path no route matched (a 404 from the resolver, a redirect adding a slash) cannot be
    sorted into public and secret parts, so only its first segment is kept. The query string is
    never part of it.
    """
    match = getattr(request, "resolver_match", None)
    path = request.path
    if match is None:
        first = path.lstrip("/").split("/", 1)[0]
        return f"/{first}/{REDACTED}" if first and "/" in path.lstrip("/") else f"/{first}"
    for name, value in match.kwargs.items():
        if name not in PUBLIC_URL_ARGUMENTS and value not in (None, ""):
            path = path.replace(str(value), REDACTED)
    for value in match.args:  # positional groups of unnamed regex routes: no name to trust
        if value not in (None, ""):
            path = path.replace(str(value), REDACTED)
    return path


class AccessLogMiddleware:
    """One log line per request: method, path with secrets redacted, status, duration.

    Replaces gunicorn's access log, which wrote every signer's confirm, withdraw and erasure
    link with its token. Deliberately absent: the client's address, user agent, referrer and the
    query string (the people we protect must not be traceable through our logs). The request id
    comes from RequestIdFilter, like every other line. The duration runs until the response
    starts; a streamed export keeps sending after that.
    """

    logger = logging.getLogger("coalition.access")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = redacted_path(request)
        method = request.method if request.method in _METHODS else "OTHER"
        self.logger.info(
            "%s %s %s %sms",
            method,
            path,
            response.status_code,
            duration_ms,
            extra={
                "method": method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response


# A client chooses the method; log only names we know, so a log line cannot be forged.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RedactedPathFilter(logging.Filter):
    """Django's request logger names the path of a failed request ("Internal Server Error:
    /signatures/confirm/<token>/"); this puts the redacted path in its place."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest) and isinstance(record.args, tuple):
            record.args = tuple(
                redacted_path(request) if arg == request.path else arg for arg in record.args
            )
        return True


class QueryLanguageMiddleware:
    """``?lang=ru`` picks the language of this one response, over the cookie and the browser.

    Runs after LocaleMiddleware. Our URLs carry no language prefix, so a link (a share link, an
    hreflang alternate, og:url) names its language this way, and a link-preview bot, which has no
    cookie, gets the card in the language of the link. It is not remembered: the language switch
    in the header sets the cookie.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.GET.get("lang", "")
        if language and language in {code for code, _name in settings.LANGUAGES}:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)

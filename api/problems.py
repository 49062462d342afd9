"""Problem details (RFC 9457): the one shape every API error takes.

Views raise ``Problem`` from wherever the request turns out to be bad and turn it into a response
in one place, so no error path can answer with HTML or a bare status code. Titles stay English and
stable (clients may match on them); ``detail`` and the field messages follow the reader's language.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from foundation import errors
from foundation.ratelimit import RateLimited, too_many_requests

CONTENT_TYPE = "application/problem+json"
# Errors that belong to no single field (a malformed body, a rule about the whole request).
NON_FIELD = "non_field_errors"

Errors = Mapping[str, Sequence[str]]


class Problem(Exception):
    def __init__(
        self,
        *,
        status: int,
        title: str,
        detail: str,
        errors: Errors | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})

    def response(self) -> JsonResponse:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            body["errors"] = {name: [str(m) for m in msgs] for name, msgs in self.errors.items()}
        response = JsonResponse(
            body,
            status=self.status,
            content_type=CONTENT_TYPE,
            json_dumps_params={"ensure_ascii": False},
        )
        for name, value in self.headers.items():
            response[name] = value
        return response


def invalid(errors: Errors, detail: str | None = None) -> Problem:
    return Problem(
        status=400,
        title="Invalid input",
        detail=detail or _("Some fields are missing or not valid; see errors."),
        errors=errors,
    )


def invalid_body(message: str) -> Problem:
    """The body as a whole could not be read: no field can be blamed."""
    return invalid({NON_FIELD: [message]}, detail=message)


def not_found(detail: str | None = None) -> Problem:
    return Problem(status=404, title="Not Found", detail=detail or _("There is nothing here."))


# A domain error's kind decides its status; an error of no kind is a rule about the input.
_KINDS: tuple[tuple[type[errors.DomainError], int, str], ...] = (
    (errors.NotFound, 404, "Not Found"),
    (errors.Forbidden, 403, "Forbidden"),
    (errors.Conflict, 409, "Conflict"),
)


def domain_status(error: errors.DomainError) -> tuple[int, str]:
    """(status, title) of a service's refusal, by its kind (foundation/errors.py)."""
    for kind, status, title in _KINDS:
        if isinstance(error, kind):
            return status, title
    return 400, "Invalid input"


def from_domain_error(error: errors.DomainError) -> Problem:
    status, title = domain_status(error)
    if status == 400:
        return invalid_body(str(error))
    return Problem(status=status, title=title, detail=str(error))


def method_not_allowed(allowed: Sequence[str]) -> Problem:
    return Problem(
        status=405,
        title="Method Not Allowed",
        detail=_("Use one of: %(methods)s.") % {"methods": ", ".join(allowed)},
        headers={"Allow": ", ".join(allowed)},
    )


def content_too_large(max_bytes: int) -> Problem:
    return Problem(
        status=413,
        title="Content Too Large",
        detail=_("The body may be at most %(n)d bytes.") % {"n": max_bytes},
    )


def unsupported_media_type(supported: Sequence[str]) -> Problem:
    return Problem(
        status=415,
        title="Unsupported Media Type",
        detail=_("Send the body as one of: %(types)s.") % {"types": ", ".join(supported)},
        headers={"Accept-Post": ", ".join(supported)},
    )


ViewFunc = Callable[..., HttpResponse]


def allow(*methods: str) -> Callable[[ViewFunc], ViewFunc]:
    """Like Django's require_http_methods, but the 405 is a problem document with Allow.

    It also answers the view's Problems and rate limits here rather than in middleware, so that
    decorators outside it (never_cache on the POST) apply to those responses too.
    """

    def decorator(view: ViewFunc) -> ViewFunc:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return method_not_allowed(methods).response()
            try:
                return view(request, *args, **kwargs)
            except Problem as problem:
                return problem.response()
            except errors.DomainError as error:  # a service refused: its kind is the status
                return from_domain_error(error).response()
            except RateLimited as exc:
                return too_many_requests(request, exc.retry_after, exc.scope)

        return wrapper

    return decorator

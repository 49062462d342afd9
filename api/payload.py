"""From a request (body, query) to plain values and form data, without judging the values.

Checks here are about the *shape* of the request (size, media type, JSON syntax, value types);
whether a name or an address is acceptable is the form's business alone, so a field added to the
form (say, a proof-of-work solution) is picked up here without a change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

from api import problems

MAX_BODY_BYTES = 16 * 1024
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
SUPPORTED_MEDIA_TYPES = (JSON, FORM)
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Form fields fed from the `consents` list rather than taken from the body by name.
CONSENT_PREFIX = "consent_"


def query_int(request: HttpRequest, name: str, *, default: int, maximum: int | None) -> int:
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    # isdecimal() alone admits non-ASCII digits; the length cap keeps int() cheap.
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 9) or int(raw) < 1:
        raise problems.invalid({name: [_("Must be a whole number of at least 1.")]})
    if maximum is not None and int(raw) > maximum:
        raise problems.invalid({name: [_("Must be at most %(n)d.") % {"n": maximum}]})
    return int(raw)


def read(request: HttpRequest) -> dict[str, Any]:
    """The body as a mapping; JSON keeps its types, a form body gives strings and lists."""
    media_type = (request.content_type or "").lower()
    if media_type not in SUPPORTED_MEDIA_TYPES:
        raise problems.unsupported_media_type(SUPPORTED_MEDIA_TYPES)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0  # Django reads no body without a valid length either
    if declared > MAX_BODY_BYTES:
        raise problems.content_too_large(MAX_BODY_BYTES)
    body = request.body
    if len(body) > MAX_BODY_BYTES:  # a server that streams without Content-Length
        raise problems.content_too_large(MAX_BODY_BYTES)
    if media_type == JSON:
        return _read_json(body)
    return _read_form(body, request.encoding or "utf-8")


def _read_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # bad syntax, bad UTF-8, absurd nesting
        raise problems.invalid_body(_("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise problems.invalid_body(_("The body must be a JSON object."))
    return data


def _read_form(body: bytes, encoding: str) -> dict[str, Any]:
    try:
        query = QueryDict(body, encoding=encoding)
    except SuspiciousOperation:  # more fields than Django agrees to parse
        raise problems.invalid_body(_("The form body has too many fields.")) from None
    except (LookupError, UnicodeError):  # a charset that decodes no text
        raise problems.unsupported_media_type(SUPPORTED_MEDIA_TYPES) from None
    data: dict[str, Any] = {key: query.get(key) for key in query}
    data["consents"] = query.getlist("consents")
    return data


def _is_text(value: object) -> bool:
    """A str that can be stored: JSON may smuggle in lone surrogates no database accepts."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _field_value(field: forms.Field, value: object) -> tuple[Any, str | None]:
    """The value as the form would receive it from a browser, or an error about its type."""
    if isinstance(field, forms.BooleanField):
        if isinstance(value, bool):
            return ("on" if value else ""), None
        if _is_text(value):  # form-encoded "on", "true", "false": the field decides
            return value, None
        return None, _("Must be true or false.")
    if isinstance(field, forms.MultipleChoiceField):
        if isinstance(value, list) and all(_is_text(v) for v in value):
            return value, None
        return None, _("Must be a list of strings.")
    if _is_text(value):
        return value, None
    return None, _("Must be a string.")


def form_data(
    payload: Mapping[str, Any], *, fields: Mapping[str, forms.Field], cosponsors: Iterable[str]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Map the payload onto the form's fields; return the data and any errors of type.

    ``consents`` (a list of co-sponsor slugs) becomes the form's ``consent_<slug>`` booleans; a
    slug that is no co-sponsor is an error rather than dropped: the signer meant to consent.
    """
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, field in fields.items():
        if name.startswith(CONSENT_PREFIX) or payload.get(name) is None:
            continue
        value, error = _field_value(field, payload[name])
        if error is None:
            data[name] = value
        else:
            errors[name] = [error]
    consents = payload.get("consents")
    if consents is None:
        consents = []
    if not isinstance(consents, list) or not all(_is_text(slug) for slug in consents):
        errors["consents"] = [_("Must be a list of co-sponsor short names.")]
    else:
        known = set(cosponsors)
        unknown = sorted({slug for slug in consents if slug not in known})
        if unknown:
            errors["consents"] = [
                _("Not a co-sponsor of this campaign: %(slugs)s.") % {"slugs": ", ".join(unknown)}
            ]
        data.update({f"{CONSENT_PREFIX}{slug}": "on" for slug in consents})
    return data, errors


def source_slug(payload: Mapping[str, Any]) -> tuple[str, dict[str, list[str]]]:
    """The organization the signer came through; only its type is checked here."""
    source = payload.get("source")
    if source is None:
        return "", {}
    if not _is_text(source):
        return "", {"source": [_("Must be a string.")]}
    return str(source), {}

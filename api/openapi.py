"""The OpenAPI 3.1 description of the partner API, served at /api/v1/openapi.json.

The signing body is derived from SignatureForm itself, so a field added to the form appears here
too; everything else is written out by hand and kept honest by a test that compares the document
with api.urls and validates it against the OpenAPI 3.1 schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from api import payload
from campaigns.forms import SignatureForm

_JSON = payload.JSON
_FORM = payload.FORM
_PROBLEM = "application/problem+json"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _field_schema(field: forms.Field) -> dict[str, Any]:
    schema: dict[str, Any]
    if isinstance(field, forms.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(field, forms.ChoiceField):
        # Django has normalized the choices to (value, label) pairs by now; none are grouped here.
        choices = cast(Iterable[tuple[Any, Any]], field.choices)
        schema = {"type": "string", "enum": [str(v) for v, _label in choices if v != ""]}
    else:
        schema = {"type": "string"}
        if isinstance(field, forms.EmailField):
            schema["format"] = "email"
        max_length = getattr(field, "max_length", None)
        if max_length:
            schema["maxLength"] = max_length
    description = " ".join(str(part) for part in (field.label, field.help_text) if part)
    if description:
        schema["description"] = description
    return schema


def _challenge_path() -> str:
    try:
        return reverse("campaigns:pow_challenge")
    except NoReverseMatch:  # the document must not fail if the endpoint moves
        return "the proof-of-work challenge endpoint"


def _signature_request() -> dict[str, Any]:
    # An unbound form with no co-sponsors has exactly the fields every petition asks for.
    fields = SignatureForm(cosponsors=[]).fields
    properties = {name: _field_schema(field) for name, field in fields.items()}
    properties["website"]["description"] = (
        "Honeypot: leave it out or empty. When filled, the API answers 202 and records nothing."
    )
    if "altcha" in properties:
        properties["altcha"]["description"] = (
            "Proof of work: the base64 ALTCHA payload solving a fresh challenge from "
            f"`{_challenge_path()}`. Optional, but posts without it share one global hourly "
            "budget (and a stricter per-domain one); a payload that does not verify (expired, "
            "reused, altered) is a 400."
        )
    properties.pop("nojs", None)  # the sign page's token for forms sent without JavaScript
    if "updates" in properties:
        properties["updates"]["description"] = (
            "“Keep me informed about this campaign”: the co-sponsors' joint updates, opt-in "
            "(default false). Not a consent to any one organization (that is `consents`); the "
            "confirmation mail repeats it, the confirmation page can only take it back, and "
            "every update carries one-click unsubscribe."
        )
    properties["consents"] = {
        "type": "array",
        "items": {"type": "string"},
        "description": "Short names (slugs) of co-sponsors the signer allows to contact them; "
        "each must be one of the petition's `cosponsors`. In a form body, repeat the key.",
    }
    properties["source"] = {
        "type": "string",
        "description": "Short name of the co-sponsor whose site the signer came from; "
        "attribution only, ignored unless it is a co-sponsor.",
    }
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name, field in fields.items() if field.required],
    }


def _problem_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Problem details (RFC 9457).",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "const": "about:blank"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string", "description": "In the language of Accept-Language."},
        },
    }


def _validation_problem_schema() -> dict[str, Any]:
    return {
        "allOf": [
            _ref("schemas", "Problem"),
            {
                "type": "object",
                "required": ["errors"],
                "properties": {
                    "title": {"const": "Invalid input"},
                    "status": {"const": 400},
                    "errors": {
                        "type": "object",
                        "description": "Messages per field name (`consents` for consent "
                        "problems, `non_field_errors` for a body that could not be read).",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        ]
    }


def _schemas() -> dict[str, Any]:
    campaign = {
        "type": "object",
        "required": ["slug", "title"],
        "properties": {"slug": {"type": "string"}, "title": {"type": "string"}},
    }
    summary_properties: dict[str, Any] = {
        "slug": {"type": "string"},
        "title": {"type": "string", "description": "In the reader's language if available."},
        "campaign": _ref("schemas", "CampaignBrief"),
        "goal": {"type": "integer", "minimum": 1},
        "confirmed_count": {
            "type": "integer",
            "minimum": 0,
            "description": "Confirmed signatures; may lag a few seconds behind.",
        },
        "open": {"type": "boolean", "description": "Whether it accepts signatures now."},
        "url": {"type": "string", "format": "uri", "description": "The petition's page."},
    }
    return {
        "Problem": _problem_schema(),
        "ValidationProblem": _validation_problem_schema(),
        "CampaignBrief": campaign,
        "PetitionSummary": {
            "type": "object",
            "required": list(summary_properties),
            "properties": summary_properties,
        },
        "PetitionList": {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "next": {"type": ["string", "null"], "format": "uri"},
                "previous": {"type": ["string", "null"], "format": "uri"},
                "results": {"type": "array", "items": _ref("schemas", "PetitionSummary")},
            },
        },
        "PetitionDetail": {
            "type": "object",
            "required": [
                "slug",
                "title",
                "text",
                "addressed_to",
                "goal",
                "confirmed_count",
                "deadline",
                "open",
                "url",
                "campaign",
                "cosponsors",
                "countries",
            ],
            "properties": {
                **summary_properties,
                "text": {"type": "string", "description": "Markdown."},
                "addressed_to": {"type": "string"},
                "deadline": {"type": ["string", "null"], "format": "date-time"},
                "cosponsors": {
                    "type": "array",
                    "description": "All co-sponsors as equals, in alphabetical order.",
                    "items": {
                        "type": "object",
                        "required": ["slug", "name", "url"],
                        "properties": {
                            "slug": {"type": "string"},
                            "name": {"type": "string"},
                            "url": {"type": "string", "format": "uri"},
                        },
                    },
                },
                "countries": {
                    "type": "array",
                    "description": "Confirmed signatures per country, most first.",
                    "items": {
                        "type": "object",
                        "required": ["country", "count"],
                        "properties": {
                            "country": {"type": "string", "description": "ISO 3166-1 alpha-2."},
                            "count": {"type": "integer", "minimum": 1},
                        },
                    },
                },
            },
        },
        "SignatureRequest": _signature_request(),
        "SignatureAccepted": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"type": "string", "const": "confirmation_sent"}},
        },
    }


def _problem_response(description: str, *, schema: str = "Problem", **headers: Any) -> Any:
    response: dict[str, Any] = {
        "description": description,
        "content": {_PROBLEM: {"schema": _ref("schemas", schema)}},
    }
    if headers:
        response["headers"] = {name: _ref("headers", ref) for name, ref in headers.items()}
    return response


def _responses() -> dict[str, Any]:
    return {
        "BadRequest": _problem_response(
            "Invalid input: every bad field is named in `errors`.", schema="ValidationProblem"
        ),
        "NotFound": _problem_response("Not found."),
        "MethodNotAllowed": _problem_response(
            "The path does not support this method; Allow lists those it does.",
            Allow="Allow",
        ),
        "ContentTooLarge": _problem_response(
            f"The body is larger than {payload.MAX_BODY_BYTES} bytes."
        ),
        "UnsupportedMediaType": _problem_response(
            "The body is neither JSON nor form-encoded.", **{"Accept-Post": "AcceptPost"}
        ),
        "TooManyRequests": _problem_response(
            "Too many attempts from this address or for this email domain.",
            **{"Retry-After": "RetryAfter", "Cache-Control": "NoStore"},
        ),
    }


def _headers() -> dict[str, Any]:
    return {
        "Allow": {"description": "Methods the path supports.", "schema": {"type": "string"}},
        "AcceptPost": {"description": "Media types accepted.", "schema": {"type": "string"}},
        "RetryAfter": {
            "description": "Seconds to wait before trying again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        },
        "PublicCache": {
            "description": "`public` with a short `max-age`: petition data may lag seconds.",
            "schema": {"type": "string"},
        },
        "NoStore": {
            "description": "Includes `no-store`: never cache a signing answer.",
            "schema": {"type": "string"},
        },
    }


def _parameters() -> dict[str, Any]:
    return {
        "Slug": {
            "name": "slug",
            "in": "path",
            "required": True,
            "description": "The petition's short name.",
            "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
        },
        "Page": {
            "name": "page",
            "in": "query",
            "description": "Page number, from 1. A page past the last is 404.",
            "schema": {"type": "integer", "minimum": 1, "default": 1},
        },
        "PageSize": {
            "name": "page_size",
            "in": "query",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": payload.MAX_PAGE_SIZE,
                "default": payload.PAGE_SIZE,
            },
        },
        "AcceptLanguage": {
            "name": "Accept-Language",
            "in": "header",
            "description": "`en` or `ru`: titles, texts and messages in that language, falling "
            "back to the other where a petition has only one.",
            "schema": {"type": "string"},
        },
    }


def _ok(description: str, schema: str, *, status_headers: str = "PublicCache") -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"Cache-Control": _ref("headers", status_headers)},
        "content": {_JSON: {"schema": _ref("schemas", schema)}},
    }


def _paths() -> dict[str, Any]:
    language = _ref("parameters", "AcceptLanguage")
    slug = _ref("parameters", "Slug")
    return {
        "/api/v1/petitions": {
            "get": {
                "operationId": "listPetitions",
                "summary": "Open petitions, newest first",
                "parameters": [
                    _ref("parameters", "Page"),
                    _ref("parameters", "PageSize"),
                    language,
                ],
                "responses": {
                    "200": _ok("A page of open petitions.", "PetitionList"),
                    "400": _ref("responses", "BadRequest"),
                    "404": _ref("responses", "NotFound"),
                    "405": _ref("responses", "MethodNotAllowed"),
                },
            }
        },
        "/api/v1/petitions/{slug}": {
            "get": {
                "operationId": "getPetition",
                "summary": "One public petition, open or not",
                "parameters": [slug, language],
                "responses": {
                    "200": _ok("The petition.", "PetitionDetail"),
                    "404": _ref("responses", "NotFound"),
                    "405": _ref("responses", "MethodNotAllowed"),
                },
            }
        },
        "/api/v1/petitions/{slug}/signatures": {
            "post": {
                "operationId": "createSignature",
                "summary": "Sign: the signer gets an email to confirm",
                "description": "The answer is the same whether the address is new or has "
                "signed before (then the confirmation or a reminder is mailed again, at most "
                "once per cooldown), so the API never reveals who has signed.",
                "parameters": [slug, language],
                "requestBody": {
                    "required": True,
                    "description": f"At most {payload.MAX_BODY_BYTES} bytes.",
                    "content": {
                        _JSON: {"schema": _ref("schemas", "SignatureRequest")},
                        _FORM: {
                            "schema": _ref("schemas", "SignatureRequest"),
                            "encoding": {"consents": {"style": "form", "explode": True}},
                        },
                    },
                },
                "responses": {
                    "202": _ok(
                        "Accepted: a confirmation email is on its way.",
                        "SignatureAccepted",
                        status_headers="NoStore",
                    ),
                    "400": _ref("responses", "BadRequest"),
                    "404": {
                        **_problem_response("No open petition has this short name."),
                    },
                    "405": _ref("responses", "MethodNotAllowed"),
                    "409": _problem_response("The petition closed while the request was handled."),
                    "413": _ref("responses", "ContentTooLarge"),
                    "415": _ref("responses", "UnsupportedMediaType"),
                    "429": _ref("responses", "TooManyRequests"),
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document.",
                        "content": {_JSON: {"schema": {"type": "object"}}},
                    },
                    "405": _ref("responses", "MethodNotAllowed"),
                },
            }
        },
    }


def document(*, server_url: str) -> dict[str, Any]:
    # Labels are lazy translations: pin English so the document does not vary by reader.
    with translation.override("en"):
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "Coalition petitions API",
                "version": "1.0.0",
                "description": "What the petition widget uses: open petitions, one petition, "
                "and signing. Errors are problem details (RFC 9457). Any other method on a "
                "path is 405 with Allow; any unknown path under /api/v1/ is a 404 problem.",
            },
            "servers": [{"url": server_url}],
            "paths": _paths(),
            "components": {
                "schemas": _schemas(),
                "responses": _responses(),
                "parameters": _parameters(),
                "headers": _headers(),
            },
        }

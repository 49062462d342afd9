"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document that matches what the API does."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, reverse
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from api import urls as api_urls
from campaigns.forms import SignatureForm

pytestmark = pytest.mark.django_db

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def document(client):
    response = client.get(reverse("api:openapi"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def _schema_validator(document, name):
    """Validates instances against one component schema, resolving the document's $refs."""
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


def _openapi_path(pattern: URLPattern, prefix: str) -> str:
    # "petitions/<slug:slug>/signatures" -> "/api/v1/petitions/{slug}/signatures"
    return prefix + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_every_api_url_is_documented_and_nothing_else(document):
    prefix = reverse("api:openapi").removesuffix("openapi.json")  # "/api/v1/"
    routed = {
        _openapi_path(p, prefix)
        for p in api_urls.urlpatterns
        if isinstance(p, URLPattern) and p.name != "not_found"
    }
    assert routed == set(document["paths"])


def test_documented_methods_are_exactly_those_the_api_allows(client, document, live):
    for path, item in document["paths"].items():
        url = path.replace("{slug}", live.petition.slug)
        allowed = {m.strip().lower() for m in client.generic("TRACE", url)["Allow"].split(",")}
        assert set(item) & METHODS == allowed - {"head"}, path


def test_signing_body_documents_every_form_field(document):
    schema = document["components"]["schemas"]["SignatureRequest"]
    fields = SignatureForm(cosponsors=[]).fields
    # "nojs" is the sign page's own token for forms sent without JavaScript, not the API's.
    assert set(fields) - {"nojs"} | {"consents", "source"} == set(schema["properties"])
    assert set(schema["required"]) == {n for n, f in fields.items() if f.required}
    content = document["paths"]["/api/v1/petitions/{slug}/signatures"]["post"]["requestBody"]
    assert set(content["content"]) == {"application/json", "application/x-www-form-urlencoded"}


def test_every_response_is_documented_with_problem_details(document):
    operation = document["paths"]["/api/v1/petitions/{slug}/signatures"]["post"]
    assert set(operation["responses"]) == {"202", "400", "404", "405", "409", "413", "415", "429"}
    responses = document["components"]["responses"]
    for name in ("BadRequest", "NotFound", "ContentTooLarge", "TooManyRequests"):
        assert "application/problem+json" in responses[name]["content"]
    assert "Retry-After" in responses["TooManyRequests"]["headers"]
    assert "Allow" in responses["MethodNotAllowed"]["headers"]


def test_real_responses_match_the_documented_schemas(client, document, live, pow_solution):
    listing = client.get(reverse("api:petitions")).json()
    detail = client.get(reverse("api:petition", args=[live.petition.slug])).json()
    url = reverse("api:signatures", args=[live.petition.slug])
    accepted = client.post(
        url,
        json.dumps(
            {
                "name": "Anna Petrova",
                "email": "anna@example.org",
                "country": "DE",
                "display": "full",
                "consents": [live.partner.slug],
                "altcha": pow_solution(),
            }
        ),
        content_type="application/json",
    ).json()
    invalid = client.post(url, "{}", content_type="application/json").json()
    missing = client.get(reverse("api:petition", args=["nothing-here"])).json()

    _schema_validator(document, "PetitionList").validate(listing)
    _schema_validator(document, "PetitionDetail").validate(detail)
    _schema_validator(document, "SignatureAccepted").validate(accepted)
    _schema_validator(document, "ValidationProblem").validate(invalid)
    _schema_validator(document, "Problem").validate(missing)
    request_schema = _schema_validator(document, "SignatureRequest")
    assert not request_schema.is_valid({"name": "x", "display": "everyone"})

"""POST /api/v1/petitions/<slug>/signatures: signing from the widget."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, Petition, Signature, SupporterConsent
from outbox.models import Email
from tests.outbox.helpers import sent

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
GOOD = {
    "name": "Мария Иванова",
    "email": "maria@example.org",
    "country": "LV",
    "city": "Riga",
    "display": "initial",
}


def _url(petition):
    return reverse("api:signatures", args=[petition.slug])


def _post_json(client, petition, body, **extra):
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    # CONTENT_TYPE spelled out: the test client drops the header when the body is empty.
    return client.post(
        _url(petition),
        raw,
        content_type="application/json",
        CONTENT_TYPE="application/json",
        **extra,
    )


def _confirm_emails():
    return Email.objects.filter(kind="campaigns.confirm")


@pytest.fixture
def good(pow_solution):
    """A fresh valid body each call: a proof-of-work solution can be spent only once."""
    return lambda **changes: {**GOOD, "altcha": pow_solution(), **changes}


def _assert_invalid(response, *fields):
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "about:blank"
    assert problem["title"] == "Invalid input"
    assert problem["status"] == 400
    assert problem["detail"]
    for field in fields:
        assert problem["errors"][field], field
        assert all(isinstance(m, str) and m for m in problem["errors"][field])
    return problem


# --- the happy path ---------------------------------------------------------------------------


def test_sign_creates_one_pending_signature_and_one_confirmation_email(client, live, good):
    body = good(consents=[live.partner.slug], source=live.starter.slug)
    response = _post_json(client, live.petition, body)

    assert response.status_code == 202
    assert response.json() == {"status": "confirmation_sent"}
    assert "no-store" in response["Cache-Control"]
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert (signature.name, signature.email, str(signature.country), signature.city) == (
        "Мария Иванова",
        "maria@example.org",
        "LV",
        "Riga",
    )
    assert signature.display == Signature.Display.FIRST_NAME_INITIAL
    assert signature.source == live.starter
    assert list(SupporterConsent.objects.values_list("organization", flat=True)) == [
        live.partner.pk
    ]
    email = sent(_confirm_emails().get())
    assert email.to == "maria@example.org"
    assert "/signatures/confirm/" in email.body_text


def test_sign_with_a_form_encoded_body(client, live, good):
    body = good(consents=[live.partner.slug, live.starter.slug])
    response = client.post(
        _url(live.petition),
        urlencode(body, doseq=True),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 202
    signature = Signature.objects.get()
    assert set(signature.consents.values_list("organization", flat=True)) == {
        live.partner.pk,
        live.starter.pk,
    }
    assert _confirm_emails().count() == 1


def test_no_consents_means_no_consents(client, live, good):
    assert _post_json(client, live.petition, good()).status_code == 202
    assert not SupporterConsent.objects.exists()


def test_source_that_is_not_a_cosponsor_is_ignored(client, live, good, make_live):
    other = make_live("Another campaign")
    response = _post_json(client, live.petition, good(source=other.starter.slug))
    assert response.status_code == 202
    assert Signature.objects.get(petition=live.petition).source is None


def test_signature_is_recorded_in_the_signers_language(client, live, good):
    response = _post_json(client, live.petition, good(), headers={"Accept-Language": "ru"})
    assert response.status_code == 202
    assert Signature.objects.get().language == "ru"


def test_api_needs_no_csrf_token(live, good):
    client = Client(enforce_csrf_checks=True)
    assert _post_json(client, live.petition, good()).status_code == 202


@pytest.mark.parametrize("again", ["MARIA@Example.ORG", "maria+petition@example.org"])
def test_second_signature_with_same_email_is_accepted_and_creates_nothing(
    client, live, good, again
):
    assert _post_json(client, live.petition, good()).status_code == 202
    response = _post_json(client, live.petition, good(email=again, name="Someone Else"))
    # The same answer as the first time: the API must not tell who has signed.
    assert response.status_code == 202
    assert response.json() == {"status": "confirmation_sent"}
    assert Signature.objects.get().name == "Мария Иванова"
    assert _confirm_emails().count() == 1


def test_honeypot_looks_like_success_but_writes_nothing(client, live, good):
    response = _post_json(client, live.petition, good(website="http://spam.example"))
    assert response.status_code == 202
    assert response.json() == {"status": "confirmation_sent"}
    assert not Signature.objects.exists()
    assert not _confirm_emails().exists()


# --- bad fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("name", "<script>alert(1)</script>"),
        ("name", "Maria https://spam.example"),
        ("email", "not-an-email"),
        ("email", "maria@mailinator.com"),
        ("country", "XX"),
        ("country", ""),
        ("display", "everyone"),
        ("city", "R" * 101),
        ("city", "<b>Riga</b>"),
    ],
)
def test_each_bad_field_is_named_and_nothing_written(client, live, good, field, value):
    response = _post_json(client, live.petition, good(**{field: value}))
    problem = _assert_invalid(response, field)
    assert set(problem["errors"]) == {field}
    assert not Signature.objects.exists()
    assert not _confirm_emails().exists()


def test_missing_required_fields_are_all_named(client, live):
    _assert_invalid(_post_json(client, live.petition, {}), "name", "email", "country", "display")


def test_several_bad_fields_are_named_together(client, live, good):
    response = _post_json(client, live.petition, good(name="<i>", email="x@mailinator.com"))
    assert set(_assert_invalid(response, "name", "email")["errors"]) == {"name", "email"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": 42}, "name"),
        ({"name": ["Maria"]}, "name"),
        ({"email": {"address": "maria@example.org"}}, "email"),
        ({"country": True}, "country"),
        ({"city": 1.5}, "city"),
        ({"display": ["full"]}, "display"),
        ({"website": False}, "website"),
        ({"altcha": 7}, "altcha"),
        ({"consents": "alpha"}, "consents"),
        ({"consents": [1, 2]}, "consents"),
        ({"consents": [{"slug": "x"}]}, "consents"),
        ({"consents": ["no-such-organization"]}, "consents"),
        ({"source": 3}, "source"),
        ({"source": ["a"]}, "source"),
        # A lone surrogate is valid JSON but no database can store it.
        ({"city": "\ud800"}, "city"),
    ],
)
def test_wrong_types_are_named(client, live, good, changes, field):
    _assert_invalid(_post_json(client, live.petition, good(**changes)), field)
    assert not Signature.objects.exists()


def test_null_is_the_same_as_leaving_a_field_out(client, live, good):
    response = _post_json(client, live.petition, good(city=None, consents=None, source=None))
    assert response.status_code == 202


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        "",
        "not json",
        b"\xff\xfe\x00",
        "[1, 2]",
        '"a string"',
        "null",
        "42",
        "[" * 5000 + "]" * 5000,  # deeper than the parser will go, well under the size limit
    ],
    ids=["truncated", "empty", "text", "bad-utf8", "array", "string", "null", "number", "deep"],
)
def test_malformed_or_non_object_json_is_400(client, live, raw):
    problem = _assert_invalid(_post_json(client, live.petition, raw), "non_field_errors")
    assert problem["detail"]
    assert not Signature.objects.exists()


def test_form_body_with_too_many_fields_is_400(client, live):
    raw = "&".join(f"f{n}=1" for n in range(1500))
    response = client.post(
        _url(live.petition), raw, content_type="application/x-www-form-urlencoded"
    )
    _assert_invalid(response, "non_field_errors")


def test_body_over_16_kb_is_refused(client, live, good):
    response = _post_json(client, live.petition, good(city="x" * 17_000))
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 413
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data; boundary=xyz", "application/xml", ""],
)
def test_unsupported_media_type_is_415(client, live, content_type):
    response = client.post(_url(live.petition), "name=x", content_type=content_type)
    assert response.status_code == 415
    assert response["Content-Type"] == PROBLEM
    assert "application/json" in response["Accept-Post"]


def test_media_type_is_matched_case_insensitively_with_a_charset(client, live, good):
    response = client.post(
        _url(live.petition),
        json.dumps(good()),
        content_type="Application/JSON; charset=utf-8",
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    "body",
    [
        {"name": {"a": 1}, "email": None, "country": [], "display": 0},
        {"consents": [None], "source": {}},
        {**GOOD, "name": "A" * 5000},
        {**GOOD, "email": "a@" + "b" * 300 + ".example"},
        {**GOOD, "email": "maria@例え.テスト"},
        {**GOOD, "email": "@", "name": "\x00"},
        {**GOOD, "city": "Riga\x00"},
        {**GOOD, "country": "lv"},
        {**GOOD, "altcha": "not base64 at all"},
        {**GOOD, "altcha": "e30="},  # base64 of {}
        {**GOOD, "display": "initial", "unexpected": {"nested": [1, 2, 3]}},
        {**GOOD, "name": 1e400},
    ],
)
def test_no_input_causes_a_server_error(client, live, body):
    response = _post_json(client, live.petition, json.dumps(body))
    assert response.status_code in {202, 400}
    if response.status_code == 400:
        assert response["Content-Type"] == PROBLEM


# --- which petitions can be signed ------------------------------------------------------------


def test_closed_campaign_petition_is_404(client, live, good):
    services.campaign_close(
        campaign=live.campaign,
        organization=live.starter,
        user=live.starter_admin,
        result=Campaign.Result.WON,
        result_summary="The Commission acted.",
    )
    response = _post_json(client, live.petition, good())
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert not Signature.objects.exists()


def test_petition_past_its_deadline_is_404(client, live, good):
    Petition.objects.filter(pk=live.petition.pk).update(deadline=timezone.now())
    assert _post_json(client, live.petition, good()).status_code == 404


@pytest.mark.parametrize("status", [Campaign.Status.PAUSED, Campaign.Status.DRAFT])
def test_petition_of_paused_or_draft_campaign_is_404(client, live, good, status):
    Campaign.objects.filter(pk=live.campaign.pk).update(status=status)
    assert _post_json(client, live.petition, good()).status_code == 404


def test_unknown_petition_is_404(client, db):
    response = client.post(
        reverse("api:signatures", args=["no-such-petition"]),
        json.dumps(GOOD),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


# --- abuse ------------------------------------------------------------------------------------


def test_signing_is_rate_limited_per_ip(client, live, good, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_ip": "2/h"}
    for n in range(2):
        assert _post_json(client, live.petition, good(email=f"m{n}@example.org")).status_code == 202
    response = _post_json(client, live.petition, good(email="m3@example.org"))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 429
    assert "no-store" in response["Cache-Control"]
    assert Signature.objects.count() == 2
    # another address is not held back
    other = _post_json(client, live.petition, good(email="m4@example.org"), REMOTE_ADDR="10.1.1.1")
    assert other.status_code == 202


def test_invalid_attempts_count_against_the_ip_limit_too(client, live, good, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_ip": "2/h"}
    for _ in range(2):
        _post_json(client, live.petition, "{")
    assert _post_json(client, live.petition, good()).status_code == 429


def test_signing_is_rate_limited_per_email_domain(client, live, good, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_domain": "1/h"}
    assert _post_json(client, live.petition, good(email="a@bulk.example")).status_code == 202
    response = _post_json(
        client, live.petition, good(email="b@bulk.example"), REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 429
    assert Signature.objects.count() == 1


def test_without_proof_of_work_the_budget_everybody_shares_applies(client, live, good, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sign_nojs": "1/h"}
    assert _post_json(client, live.petition, {**GOOD, "email": "a@example.org"}).status_code == 202
    # from another address too: the budget is one for everybody
    response = _post_json(
        client, live.petition, {**GOOD, "email": "b@example.org"}, REMOTE_ADDR="10.9.9.8"
    )
    assert response.status_code == 429
    assert "without a proof of work" in response.json()["detail"]
    # a solved challenge is not held back by it
    assert _post_json(client, live.petition, good(email="c@example.org")).status_code == 202
    assert Signature.objects.count() == 2


def test_a_proof_of_work_solution_cannot_be_reused(client, live, good):
    body = good()
    assert _post_json(client, live.petition, body).status_code == 202
    response = _post_json(client, live.petition, {**body, "email": "other@example.org"})
    _assert_invalid(response, "altcha")
    assert Signature.objects.count() == 1


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"\xff\xfename=x&email=%ED%A0%80", "application/x-www-form-urlencoded; charset=utf-16"),
        (b"name=%00&city=%ED%A0%80&consents=&consents=%FF", "application/x-www-form-urlencoded"),
        (b"\x00\x01\x02", "application/x-www-form-urlencoded; charset=no-such-codec"),
    ],
)
def test_no_form_body_causes_a_server_error(client, live, raw, content_type):
    # generic(): post() would re-encode the body into the declared charset first.
    response = client.generic("POST", _url(live.petition), raw, content_type=content_type)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert not Signature.objects.exists()

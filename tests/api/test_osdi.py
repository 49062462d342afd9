"""The OSDI partner API: organization tokens, the supporters one organization may read, and
signing people up from its own site with double opt-in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from api import services as api_services
from api.models import ApiToken
from campaigns import services as campaign_services
from campaigns.models import (
    Petition,
    Signature,
    SupporterConsent,
    SupporterExport,
)
from campaigns.signing import token_make
from members import services as member_services
from members.models import Membership, Organization, User
from outbox.models import Email
from privacy import services as privacy_services
from tests.api.conftest import LivePetition
from tests.factories import make_admin, make_staff, sign_in

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r"coa_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
HAL = "application/hal+json"


@dataclass
class World:
    live: LivePetition  # co-sponsored by A (partner) and B (starter)
    other: LivePetition  # a campaign A does not co-sponsor
    a: Organization
    b: Organization
    admin_a: User
    read: str  # A's read token
    write: str  # A's write-only token


def _admin(organization: Organization) -> User:
    return Membership.objects.filter(organization=organization, role=Membership.Role.ADMIN)[0].user


def _token(organization: Organization, *, read: bool = True, write: bool = False) -> str:
    _row, plain = api_services.token_create(
        organization=organization, user=_admin(organization), name="CRM", read=read, write=write
    )
    return plain


@pytest.fixture
def world(make_live: Callable[..., LivePetition]) -> World:
    live = make_live()
    other = make_live("Visas for all")
    a = live.partner
    return World(
        live=live,
        other=other,
        a=a,
        b=live.starter,
        admin_a=_admin(a),
        read=_token(a),
        write=_token(a, read=False, write=True),
    )


def sign(
    petition: Petition,
    email: str,
    *,
    consents: list[Organization],
    confirm: bool = True,
    name: str = "Olga Smirnova",
    city: str = "Berlin",
) -> Signature:
    signature = campaign_services.signature_create(
        petition=petition, name=name, email=email, country="DE", city=city, consents=consents
    )
    assert signature is not None
    if confirm:
        campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
        signature.refresh_from_db()
    return signature


def get(client: Client, path: str, token: str | None, *, bearer: bool = False, **query: Any):
    headers = {}
    if token is not None:
        headers = {"Authorization": f"Bearer {token}"} if bearer else {"OSDI-API-Token": token}
    return client.get(path, query, headers=headers)


def post(client: Client, path: str, token: str, body: Any):
    return client.post(
        path, body, content_type="application/json", headers={"OSDI-API-Token": token}
    )


def people_url() -> str:
    return reverse("osdi:people")


def helper_url(petition: Petition) -> str:
    return reverse("osdi:record_signature_helper", args=[petition.slug])


def person_body(email: str = "new.signer@example.org", **person: Any) -> dict[str, Any]:
    return {
        "person": {
            "given_name": "Anna",
            "family_name": "Petrova",
            "email_addresses": [{"address": email, "primary": True}],
            "postal_addresses": [{"locality": "Riga", "country": "LV"}],
            "languages_spoken": ["ru"],
            **person,
        }
    }


def _status(response) -> dict[str, Any]:
    assert response["Content-Type"].startswith(HAL), response["Content-Type"]
    return response.json()["osdi:status"]


# --- tokens in the organization's workspace ----------------------------------------------------


def test_admin_sees_a_new_token_once_and_only_its_hash_is_stored(world: World) -> None:
    client = Client()
    client.force_login(world.admin_a)
    url = reverse("api_tokens:tokens", args=[world.a.slug])

    response = client.post(url, {"name": "Website form", "scopes": ["write"]})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    plain = TOKEN.search(response.content.decode()).group(0)
    token = ApiToken.objects.get(name="Website form")
    assert (token.can_read, token.can_write, token.created_by) == (False, True, world.admin_a)
    # The secret is 43 url-safe base64 characters, which may themselves hold "_".
    assert plain.split("_", 2)[2] not in token.digest and token.digest != plain
    assert api_services.token_authenticate(plain) == token
    page = client.get(url).content.decode()
    assert plain not in page  # once only
    assert f"coa_{token.prefix}" in page  # but recognizable by its prefix


def test_revoked_token_gets_401_and_the_page_shows_last_use(world: World, client: Client) -> None:
    assert get(client, people_url(), world.read).status_code == 200
    token = ApiToken.objects.get(prefix=world.read.split("_")[1])
    assert token.last_used_at is not None
    staff_client = Client()
    staff_client.force_login(world.admin_a)
    page = staff_client.get(reverse("api_tokens:tokens", args=[world.a.slug])).content.decode()
    assert "Never" in page  # the write token, unused
    response = staff_client.post(reverse("api_tokens:revoke", args=[world.a.slug, token.pk]))
    assert response.status_code == 302

    response = get(client, people_url(), world.read)

    assert response.status_code == 401
    assert _status(response)["code"] == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "nonsense",
        "coa_000000000000_" + "A" * 43,  # well formed, unknown
        "Bearer",
    ],
)
def test_wrong_tokens_get_401(world: World, client: Client, token: str | None) -> None:
    for bearer in (False, True):
        response = get(client, people_url(), token, bearer=bearer)
        assert response.status_code == 401
        assert _status(response)["code"] == 401
    assert not SupporterExport.objects.exists()


def test_right_prefix_with_a_wrong_secret_gets_401(world: World, client: Client) -> None:
    forged = world.read[:-1] + ("B" if world.read[-1] != "B" else "C")
    assert get(client, people_url(), forged).status_code == 401


def test_bearer_works_like_the_osdi_header(world: World, client: Client) -> None:
    assert get(client, people_url(), world.read, bearer=True).status_code == 200


def test_token_of_an_admin_who_left_stops_working(world: World, client: Client) -> None:
    make_admin(world.a)  # someone stays admin, so the removal is allowed
    membership = Membership.objects.get(user=world.admin_a, organization=world.a)
    member_services.membership_remove(membership=membership)
    assert get(client, people_url(), world.read).status_code == 401


def test_another_organization_cannot_revoke_or_list_our_tokens(world: World) -> None:
    client = Client()
    client.force_login(_admin(world.b))
    token = ApiToken.objects.filter(organization=world.a).first()
    response = client.post(reverse("api_tokens:revoke", args=[world.b.slug, token.pk]))
    assert response.status_code == 404
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()


def test_an_organization_has_a_bounded_number_of_tokens(world: World, settings) -> None:
    settings.API_TOKENS_PER_ORGANIZATION = 2  # the fixture made two
    with pytest.raises(api_services.TokenError):
        _token(world.a)


# --- what a token may read ------------------------------------------------------------------


def test_entry_point_links_the_collections(world: World, client: Client) -> None:
    response = get(client, reverse("osdi:api-root"), world.read)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(HAL)
    links = response.json()["_links"]
    assert links["curies"][0]["name"] == "osdi"
    assert links["osdi:people"]["href"].endswith("/api/osdi/v1/people")
    assert links["osdi:petitions"]["href"].endswith("/api/osdi/v1/petitions")


def test_petitions_are_those_the_organization_co_sponsors(world: World, client: Client) -> None:
    body = get(client, reverse("osdi:petitions"), world.read).json()
    slugs = [p["identifiers"][0] for p in body["_embedded"]["osdi:petitions"]]
    assert slugs == [f"coalition:{world.live.petition.slug}"]
    assert body["total_records"] == 1


def test_another_organizations_petition_is_404(world: World, client: Client) -> None:
    sign(world.other.petition, "x@example.org", consents=[world.other.partner])
    for name in ("petition", "signatures"):
        response = get(
            client, reverse(f"osdi:{name}", args=[world.other.petition.slug]), world.read
        )
        assert response.status_code == 404
        assert _status(response)["code"] == 404
    response = post(
        client, helper_url(world.other.petition), _token(world.a, write=True), person_body()
    )
    assert response.status_code == 404
    assert Signature.objects.filter(petition=world.other.petition).count() == 1


def test_people_sync_gets_every_consenting_person_once_and_nobody_else(
    world: World, client: Client
) -> None:
    a, b, petition = world.a, world.b, world.live.petition
    second = campaign_services.petition_create(
        campaign=world.live.campaign,
        organization=b,
        user=world.live.starter_admin,
        title_en="A second petition",
        text_en="More.",
        addressed_to="Parliament",
    )
    wanted = {f"person{i}@example.org" for i in range(30)}
    for email in sorted(wanted):
        sign(petition, email, consents=[a])
    sign(second, "person0@example.org", consents=[a, b])  # the same person again: still one
    sign(petition, "b.only@example.org", consents=[b])  # consented to the other co-sponsor only
    sign(petition, "nobody@example.org", consents=[])
    sign(petition, "pending@example.org", consents=[a], confirm=False)
    withdrawn = sign(petition, "withdrawn@example.org", consents=[a])
    campaign_services.signature_withdraw(token=token_make(withdrawn.pk, "withdraw"))
    sign(petition, "erased@example.org", consents=[a])
    privacy_services.signer_erase(email="erased@example.org")
    sign(world.other.petition, "elsewhere@example.org", consents=[world.other.partner])
    before = timezone.now() - timedelta(hours=1)
    query = {"filter": f"modified_date gt '{before.strftime('%Y-%m-%dT%H:%M:%SZ')}'", "per_page": 7}

    seen: list[str] = []
    url: str | None = people_url() + "?" + "&".join(f"{k}={v}" for k, v in query.items())
    pages = 0
    while url:
        response = client.get(url, headers={"OSDI-API-Token": world.read})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["per_page"] == 7 and body["total_records"] == 30
        seen += [p["email_addresses"][0]["address"] for p in body["_embedded"]["osdi:people"]]
        url = body["_links"].get("next", {}).get("href")
        pages += 1

    assert pages == body["total_pages"] == 5
    assert sorted(seen) == sorted(wanted)  # each once, nobody else
    # Nothing newer than the newest modified_date seen: an incremental sync gets nobody.
    later = timezone.now() + timedelta(seconds=1)
    body = get(client, people_url(), world.read, filter=f"modified_date gt '{later.isoformat()}'")
    assert body.json()["total_records"] == 0


def _emails(body: dict[str, Any]) -> list[str]:
    return [p["email_addresses"][0]["address"] for p in body["_embedded"]["osdi:people"]]


def test_a_withdrawal_during_a_sync_skips_nobody(world: World, client: Client) -> None:
    signatures = [
        sign(world.live.petition, f"p{i}@example.org", consents=[world.a]) for i in range(6)
    ]
    first = get(client, people_url(), world.read, per_page=3).json()
    assert _emails(first) == ["p0@example.org", "p1@example.org", "p2@example.org"]
    # Someone the client has already seen withdraws before it asks for the next page: counting
    # by offset, page 2 would now start at p4 and p3 would never reach the CRM.
    campaign_services.signature_withdraw(token=token_make(signatures[0].pk, "withdraw"))

    second = client.get(first["_links"]["next"]["href"], headers={"OSDI-API-Token": world.read})

    assert _emails(second.json()) == ["p3@example.org", "p4@example.org", "p5@example.org"]
    assert "next" not in second.json()["_links"]


@pytest.mark.parametrize("cursor", ["x", "1.", "999999999999999999.1", "-1.2", "1.2.3"])
def test_a_cursor_we_did_not_give_is_a_400(world: World, client: Client, cursor: str) -> None:
    response = get(client, people_url(), world.read, cursor=cursor)
    assert response.status_code == 400
    assert _status(response)["code"] == 400


def test_a_person_carries_the_fields_a_crm_needs(world: World, client: Client) -> None:
    signature = sign(world.live.petition, "olga@example.org", consents=[world.a])
    person = get(client, people_url(), world.read).json()["_embedded"]["osdi:people"][0]
    assert (person["given_name"], person["family_name"]) == ("Olga", "Smirnova")
    assert person["email_addresses"][0]["address"] == "olga@example.org"
    assert person["postal_addresses"][0] == {"primary": True, "country": "DE", "locality": "Berlin"}
    assert person["languages_spoken"] == ["en"]
    assert person["custom_fields"]["name"] == "Olga Smirnova"
    assert person["created_date"].startswith(signature.confirmed_at.strftime("%Y-%m-%dT%H:%M"))
    # B's view of the same person (had she consented to B) would carry another identifier.
    assert person["identifiers"][0].startswith("coalition:person-")
    assert "@" not in person["identifiers"][0]


def test_supporters_are_never_cached(world: World, client: Client) -> None:
    sign(world.live.petition, "olga@example.org", consents=[world.a])
    response = get(client, people_url(), world.read)
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_signatures_of_a_petition_show_only_consenting_confirmed_signers(
    world: World, client: Client
) -> None:
    sign(world.live.petition, "olga@example.org", consents=[world.a])
    sign(world.live.petition, "boris@example.org", consents=[world.b], name="Boris Quietov")
    sign(world.live.petition, "pavel@example.org", consents=[world.a], confirm=False)
    response = get(client, reverse("osdi:signatures", args=[world.live.petition.slug]), world.read)
    body = response.json()
    people = [s["_embedded"]["osdi:person"] for s in body["_embedded"]["osdi:signatures"]]
    assert [p["email_addresses"][0]["address"] for p in people] == ["olga@example.org"]
    assert "Boris" not in response.content.decode()


@pytest.mark.parametrize(
    "value",
    [
        "modified_date gt 2026-01-01",
        "modified_date gt '2026-13-01T00:00:00Z'",
        "modified_date gt '2026-01-01T00:00:00'",  # no time zone: ambiguous
        "modified_date lt '2026-01-01T00:00:00Z'",
        "created_date gt '2026-01-01T00:00:00Z'",
        "modified_date gt '2026-01-01T00:00:00Z' or 1=1",
        "modified_date gt '0001-01-01T00:00:00+01:00'",
        "",
    ],
)
def test_a_filter_we_do_not_support_is_a_400(world: World, client: Client, value: str) -> None:
    response = get(client, people_url(), world.read, filter=value)
    assert response.status_code == 400
    assert _status(response)["code"] == 400


@pytest.mark.parametrize(
    "query", [{"per_page": "26"}, {"page": "0"}, {"page": "x"}, {"page": "10000000000"}]
)
def test_bad_paging_is_a_400(world: World, client: Client, query: dict[str, str]) -> None:
    response = get(client, people_url(), world.read, **query)
    assert response.status_code == 400
    assert _status(response)["code"] == 400


def test_reads_of_personal_data_are_in_the_export_log(world: World, client: Client) -> None:
    sign(world.live.petition, "olga@example.org", consents=[world.a])
    get(client, reverse("osdi:petitions"), world.read)
    assert not SupporterExport.objects.exists()  # no personal data in petitions

    get(client, people_url(), world.read)
    get(client, reverse("osdi:signatures", args=[world.live.petition.slug]), world.read)

    rows = list(SupporterExport.objects.order_by("pk"))
    assert len(rows) == 2
    for row in rows:
        assert (row.campaign, row.organization, row.row_count) == (world.live.campaign, world.a, 1)
        assert row.channel == SupporterExport.Channel.API
        assert row.exported_by == world.admin_a
        assert row.api_token.startswith("CRM (coa_")
    # Co-sponsor B sees A's API reads on the campaign page, as it sees A's CSV exports.
    client_b = Client()
    client_b.force_login(_admin(world.b))
    page = client_b.get(
        reverse("campaigns:manage", kwargs={"org": world.b.slug, "slug": world.live.campaign.slug})
    ).content.decode()
    assert "CRM (coa_" in page


# --- scopes ---------------------------------------------------------------------------------


def test_read_token_cannot_sign_people_up(world: World, client: Client) -> None:
    response = post(client, helper_url(world.live.petition), world.read, person_body())
    assert response.status_code == 403
    assert _status(response)["code"] == 403
    assert not Signature.objects.exists()


def test_write_only_token_cannot_read_people(world: World, client: Client) -> None:
    sign(world.live.petition, "olga@example.org", consents=[world.a])
    for url in (people_url(), reverse("osdi:signatures", args=[world.live.petition.slug])):
        response = get(client, url, world.write)
        assert response.status_code == 403
        assert "olga" not in response.content.decode()
    assert not SupporterExport.objects.exists()


# --- signing people up from the organization's site -----------------------------------------


def test_record_signature_helper_queues_a_confirmation_and_counts_nothing_yet(
    world: World, client: Client
) -> None:
    petition = world.live.petition
    response = post(client, helper_url(petition), world.write, person_body())

    assert response.status_code == 202, response.content
    assert _status(response)["code"] == 202
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert (signature.name, signature.email, str(signature.country), signature.city) == (
        "Anna Petrova",
        "new.signer@example.org",
        "LV",
        "Riga",
    )
    assert signature.source == world.a  # attributed to the organization
    assert signature.display == Signature.Display.ANONYMOUS
    assert signature.language == "ru"
    consents = SupporterConsent.objects.filter(signature=signature)
    assert [c.organization for c in consents] == [world.a]  # to A alone, not to B
    mail = Email.objects.get(kind="campaigns.confirm")
    assert mail.to == "new.signer@example.org"
    while campaign_services.signature_counts_fold():
        pass
    petition.refresh_from_db()
    assert petition.confirmed_count == 0
    assert get(client, people_url(), world.read).json()["total_records"] == 0

    campaign_services.signature_confirm(token=token_make(signature.pk, "confirm"))
    while campaign_services.signature_counts_fold():
        pass
    petition.refresh_from_db()
    assert petition.confirmed_count == 1
    assert get(client, people_url(), world.read).json()["total_records"] == 1


def test_a_repeat_answers_like_a_new_signature_and_reveals_nothing(
    world: World, client: Client
) -> None:
    olga = sign(world.live.petition, "olga@example.org", consents=[world.b])
    first = post(
        client, helper_url(world.live.petition), world.write, person_body("new@example.org")
    )
    repeat = post(
        client, helper_url(world.live.petition), world.write, person_body("olga@example.org")
    )
    assert first.status_code == repeat.status_code == 202
    assert first.json() == repeat.json()
    # Olga's signature did not gain a consent to A by someone else's post.
    assert [c.organization for c in SupporterConsent.objects.filter(signature=olga)] == [world.b]
    assert olga.source is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        "text",
        {"person": None},
        {"person": {}},
        {"person": {"email_addresses": []}},
        {"person": {"email_addresses": [{"address": "not-an-email"}]}},
        {"person": {"given_name": "<b>x</b>", "email_addresses": [{"address": "a@example.org"}]}},
        {"person": {"given_name": "A", "email_addresses": [{"address": 5}]}},
        {"person": {"given_name": "\ud800", "email_addresses": [{"address": "a@example.org"}]}},
        {"person": {"given_name": "A\u0000", "email_addresses": [{"address": "a@example.org"}]}},
        person_body(postal_addresses=[{"country": "XX"}]),
        person_body(postal_addresses=[{"country": "DE", "locality": "\ud800"}]),
        person_body(postal_addresses=[{"country": "DE", "locality": "x" * 5000}]),
        person_body(languages_spoken="ru"),
        person_body(email_addresses=[{"address": "a@example.org"}] * 50),
    ],
)
def test_bad_bodies_are_400s_in_the_osdi_shape(world: World, client: Client, body: Any) -> None:
    response = post(client, helper_url(world.live.petition), world.write, body)
    assert response.status_code == 400, response.content
    assert _status(response)["code"] == 400
    assert not Signature.objects.exists()


def test_a_body_that_is_not_json_is_a_400(world: World, client: Client) -> None:
    response = client.post(
        helper_url(world.live.petition),
        b"{not json",
        content_type="application/json",
        headers={"OSDI-API-Token": world.write},
    )
    assert response.status_code == 400
    assert _status(response)["code"] == 400


def test_a_huge_body_is_refused_before_it_is_read(world: World, client: Client) -> None:
    body = person_body(given_name="A" * 20_000)
    response = post(client, helper_url(world.live.petition), world.write, body)
    assert response.status_code == 413
    assert _status(response)["code"] == 413


def test_wrong_method_and_unknown_path_answer_in_the_osdi_shape(
    world: World, client: Client
) -> None:
    response = get(client, helper_url(world.live.petition), world.write)
    assert response.status_code == 405
    assert _status(response)["code"] == 405
    assert "POST" in response["Allow"]
    response = get(client, "/api/osdi/v1/nope", world.read)
    assert response.status_code == 404
    assert _status(response)["code"] == 404


# --- rate limits ----------------------------------------------------------------------------


def test_each_token_has_its_own_budget(world: World, client: Client, settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "osdi": "3/m"}
    for _ in range(3):
        assert get(client, people_url(), world.read).status_code == 200

    response = get(client, people_url(), world.read)

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert _status(response)["code"] == 429
    other = _token(world.a)
    assert get(client, people_url(), other).status_code == 200


def test_sign_ups_through_one_token_are_limited(world: World, client: Client, settings) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "osdi_sign": "2/h"}
    for i in range(2):
        body = person_body(f"signer{i}@example.org")
        assert post(client, helper_url(world.live.petition), world.write, body).status_code == 202

    response = post(
        client, helper_url(world.live.petition), world.write, person_body("x@example.org")
    )

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert Signature.objects.count() == 2


def test_sign_ups_through_the_partner_api_share_one_budget_per_petition_apart_from_no_js(
    world: World, client: Client, settings
) -> None:
    """They carry no proof of work: two organizations' tokens (or one organization's many) must
    not be the cheap way to flood one petition. Their budget is not the no-JavaScript signers'
    (a hostile co-sponsor's token must not lock Tor signers out, nor a bot the partners)."""
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "osdi_sign_petition": "2/h",
        "sign_nojs_petition": "1/h",
    }
    petition = world.live.petition
    b_write = _token(world.b, read=False, write=True)
    a_first = post(client, helper_url(petition), world.write, person_body("one@a.example"))
    b_second = post(client, helper_url(petition), b_write, person_body("two@b.example"))
    refused = post(client, helper_url(petition), b_write, person_body("three@c.example"))
    # The no-JavaScript budget of the petition is untouched by the partners' sign-ups...
    json_api = client.post(
        reverse("api:signatures", args=[petition.slug]),
        {"name": "Anna", "email": "four@d.example", "country": "DE", "display": "anonymous"},
        content_type="application/json",
    )
    # ...and spending it does not touch theirs.
    json_api_again = client.post(
        reverse("api:signatures", args=[petition.slug]),
        {"name": "Bot", "email": "five@e.example", "country": "DE", "display": "anonymous"},
        content_type="application/json",
    )

    assert (a_first.status_code, b_second.status_code) == (202, 202)
    assert refused.status_code == 429 and _status(refused)["code"] == 429
    assert json_api.status_code == 202
    assert json_api_again.status_code == 429
    assert Signature.objects.filter(petition=petition).count() == 3


# --- the generated schema -------------------------------------------------------------------


def test_openapi_document_is_valid_and_lists_every_endpoint(client: Client) -> None:
    response = client.get(reverse("osdi:openapi-json"))
    assert response.status_code == 200
    document = response.json()
    validate(document)
    paths = set(document["paths"])
    assert {
        "/api/osdi/v1/",
        "/api/osdi/v1/people",
        "/api/osdi/v1/petitions",
        "/api/osdi/v1/petitions/{slug}",
        "/api/osdi/v1/petitions/{slug}/signatures",
        "/api/osdi/v1/petitions/{slug}/signatures/record_signature_helper",
    } <= paths
    schemes = document["components"]["securitySchemes"]
    assert {s.get("name") or s.get("scheme") for s in schemes.values()} >= {
        "OSDI-API-Token",
        "bearer",
    }


def test_no_docs_page_loads_assets_from_another_host(client: Client) -> None:
    assert client.get("/api/osdi/v1/docs").status_code == 404


def test_the_openapi_document_answers_only_get(client: Client) -> None:
    response = client.post(reverse("osdi:openapi-json"))
    assert response.status_code == 405
    assert _status(response)["code"] == 405


def test_the_persons_language_picks_the_confirmation_mails(world: World, client: Client) -> None:
    body = person_body(languages_spoken=["de", "RU-ru"])
    assert post(client, helper_url(world.live.petition), world.write, body).status_code == 202
    assert Signature.objects.get().language == "ru"


def test_staff_see_api_reads_in_the_export_log(world: World, client: Client) -> None:
    sign(world.live.petition, "olga@example.org", consents=[world.a])
    get(client, people_url(), world.read)
    staff, secret = make_staff()
    staff_client = Client()
    sign_in(staff_client, staff, secret)
    page = staff_client.get(reverse("admin:campaigns_supporterexport_changelist"))
    assert page.status_code == 200
    assert "CRM (coa_" in page.content.decode()


def test_responses_match_the_generated_schema(world: World, client: Client) -> None:
    sign(world.live.petition, "olga@example.org", consents=[world.a])
    document = client.get(reverse("osdi:openapi-json")).json()
    slug = world.live.petition.slug
    cases = [
        ("/api/osdi/v1/", "get", reverse("osdi:api-root"), 200),
        ("/api/osdi/v1/petitions", "get", reverse("osdi:petitions"), 200),
        ("/api/osdi/v1/petitions/{slug}", "get", reverse("osdi:petition", args=[slug]), 200),
        (
            "/api/osdi/v1/petitions/{slug}/signatures",
            "get",
            reverse("osdi:signatures", args=[slug]),
            200,
        ),
        ("/api/osdi/v1/people", "get", people_url(), 200),
        ("/api/osdi/v1/people", "get", people_url() + "?filter=nonsense", 400),
    ]
    for path, method, url, status in cases:
        response = client.get(url, headers={"OSDI-API-Token": world.read})
        assert response.status_code == status, url
        content = document["paths"][path][method]["responses"][str(status)]["content"]
        assert list(content) == [HAL]
        schema = content[HAL]["schema"]
        validator = Draft202012Validator({**schema, "components": document["components"]})
        errors = [e.message for e in validator.iter_errors(response.json())]
        assert not errors, (url, errors)


def test_staff_can_revoke_a_token_but_never_see_its_hash(world: World, client: Client) -> None:
    staff, secret = make_staff()
    staff_client = Client()
    sign_in(staff_client, staff, secret)
    token = ApiToken.objects.get(prefix=world.read.split("_")[1])
    changelist = reverse("admin:api_apitoken_changelist")
    page = staff_client.get(reverse("admin:api_apitoken_change", args=[token.pk]))
    assert page.status_code == 200
    assert token.digest not in page.content.decode()

    response = staff_client.post(
        changelist, {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    assert response.status_code == 200
    token.refresh_from_db()
    assert (token.revoked_at is not None, token.revoked_by) == (True, staff)
    assert get(client, people_url(), world.read).status_code == 401

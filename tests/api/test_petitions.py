"""GET /api/v1/petitions and /api/v1/petitions/<slug>: what the widget reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, Petition

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def _list(client, headers=None, **params):
    return client.get(reverse("api:petitions"), params, headers=headers)


def _detail(client, slug, headers=None):
    return client.get(reverse("api:petition", args=[slug]), headers=headers)


def _confirmed(petition, email, country):
    """A confirmed signature, counted the way production counts it."""
    from campaigns.signing import token_make

    signature = services.signature_create(
        petition=petition, name="Anna Petrova", email=email, country=country
    )
    services.signature_confirm(token=token_make(signature.pk, "confirm"))


# --- list -------------------------------------------------------------------------------------


def test_list_pages_through_open_petitions_newest_first(client, make_live):
    lives = [make_live(f"Campaign {n}") for n in range(3)]
    response = _list(client, page_size=2)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    first = response.json()
    assert first["count"] == 3
    assert first["previous"] is None
    assert [r["slug"] for r in first["results"]] == [
        lives[2].petition.slug,
        lives[1].petition.slug,
    ]
    assert first["next"] == "http://testserver/api/v1/petitions?page_size=2&page=2"

    second = client.get(first["next"]).json()
    assert [r["slug"] for r in second["results"]] == [lives[0].petition.slug]
    assert second["next"] is None
    assert second["previous"] == "http://testserver/api/v1/petitions?page_size=2&page=1"


def test_list_result_has_the_documented_fields(client, live):
    (result,) = _list(client).json()["results"]
    assert result == {
        "slug": live.petition.slug,
        "title": "Bank accounts for all: keep our accounts open",
        "campaign": {"slug": live.campaign.slug, "title": "Bank accounts for all"},
        "goal": 100,
        "confirmed_count": 0,
        "open": True,
        "url": f"http://testserver/petitions/{live.petition.slug}/",
    }


def test_list_default_page_size_is_twenty(client, make_live):
    for n in range(21):
        make_live(f"Campaign {n}")
    body = _list(client).json()
    assert body["count"] == 21
    assert len(body["results"]) == 20
    assert body["next"] is not None


def test_list_leaves_out_drafts_paused_and_expired_petitions(client, make_live, live):
    paused = make_live("Paused one")
    Campaign.objects.filter(pk=paused.campaign.pk).update(status=Campaign.Status.PAUSED)
    expired = make_live("Expired one")
    Petition.objects.filter(pk=expired.petition.pk).update(
        deadline=timezone.now() - timedelta(days=1)
    )
    body = _list(client).json()
    assert [r["slug"] for r in body["results"]] == [live.petition.slug]
    assert body["count"] == 1


def test_list_titles_follow_accept_language_with_fallback(client, live):
    Petition.objects.filter(pk=live.petition.pk).update(title_ru="")
    response = _list(client, headers={"Accept-Language": "ru"})
    (result,) = response.json()["results"]
    assert result["campaign"]["title"] == "Счета для всех"
    # no Russian title for the petition: the English one rather than nothing
    assert result["title"] == "Bank accounts for all: keep our accounts open"
    assert "Accept-Language" in response["Vary"]
    assert "Cookie" in response["Vary"]  # the language cookie chooses the language too


def test_list_may_be_cached_briefly_by_anyone(client, live):
    cache_control = _list(client)["Cache-Control"]
    assert "public" in cache_control
    assert "max-age=30" in cache_control


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"page": "-1"}, "page"),
        ({"page": "١"}, "page"),  # an Arabic-Indic digit: int() would take it
        ({"page": "9" * 400}, "page"),
        ({"page_size": "101"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
    ],
)
def test_bad_paging_parameters_are_named(client, live, params, field):
    response = _list(client, **params)
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["title"] == "Invalid input"
    assert field in problem["errors"]


def test_page_past_the_last_is_404(client, live):
    response = _list(client, page=2)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_empty_list_is_a_page_not_an_error(client, db):
    body = _list(client).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}


# --- detail -----------------------------------------------------------------------------------


def test_detail_has_text_cosponsors_alphabetically_and_countries(client, live):
    for n, country in enumerate(["DE", "DE", "LV"]):
        _confirmed(live.petition, f"s{n}@example.org", country)
    while services.signature_counts_fold():
        pass
    deadline = timezone.now() + timedelta(days=30)
    Petition.objects.filter(pk=live.petition.pk).update(deadline=deadline)

    response = _detail(client, live.petition.slug)
    assert response.status_code == 200
    assert "max-age=30" in response["Cache-Control"]
    body = response.json()
    assert body["title"] == "Bank accounts for all: keep our accounts open"
    assert body["text"] == "We ask the **Commission** to act."
    assert body["addressed_to"] == "European Commission"
    assert body["goal"] == 100
    assert body["confirmed_count"] == 3
    assert body["deadline"] == deadline.isoformat()
    assert body["open"] is True
    assert body["campaign"] == {"slug": live.campaign.slug, "title": "Bank accounts for all"}
    # the partner that joined later comes first: alphabetical, no lead sponsor
    assert body["cosponsors"] == [
        {
            "slug": org.slug,
            "name": org.name,
            "url": f"http://testserver/members/{org.slug}/",
        }
        for org in (live.partner, live.starter)
    ]
    assert body["countries"] == [{"country": "DE", "count": 2}, {"country": "LV", "count": 1}]


def test_detail_without_deadline_says_null(client, live):
    assert _detail(client, live.petition.slug).json()["deadline"] is None


def test_detail_in_russian(client, live):
    Petition.objects.filter(pk=live.petition.pk).update(
        title_ru="Не закрывайте наши счета", text_ru="Просим Комиссию."
    )
    body = _detail(client, live.petition.slug, headers={"Accept-Language": "ru"}).json()
    assert body["title"] == "Не закрывайте наши счета"
    assert body["text"] == "Просим Комиссию."


def test_closed_campaign_petition_is_shown_but_not_open(client, live):
    services.campaign_close(
        campaign=live.campaign,
        organization=live.starter,
        user=live.starter_admin,
        result=Campaign.Result.WON,
        result_summary="The Commission acted.",
    )
    response = _detail(client, live.petition.slug)
    assert response.status_code == 200
    assert response.json()["open"] is False


@pytest.mark.parametrize("status", [Campaign.Status.DRAFT, Campaign.Status.GATHERING])
def test_petition_of_unpublished_campaign_is_404(client, live, status):
    Campaign.objects.filter(pk=live.campaign.pk).update(status=status)
    response = _detail(client, live.petition.slug)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 404


def test_unknown_petition_is_404_problem(client, db):
    response = _detail(client, "no-such-petition")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "about:blank"
    assert problem["title"] == "Not Found"


# --- the rest of the URL space ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "allow"),
    [
        ("post", "api:petitions", "GET, HEAD"),
        ("delete", "api:petition", "GET, HEAD"),
        ("put", "api:petition", "GET, HEAD"),
        ("get", "api:signatures", "POST"),
        ("delete", "api:signatures", "POST"),
        ("post", "api:openapi", "GET, HEAD"),
    ],
)
def test_wrong_method_is_405_with_allow(client, live, method, name, allow):
    args = [] if name in {"api:petitions", "api:openapi"} else [live.petition.slug]
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 405
    assert response["Allow"] == allow
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 405


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/nothing", "/api/v1/petitions/"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_api_path_is_404_problem_not_html(client, db, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_head_answers_like_get(client, live):
    response = client.head(reverse("api:petitions"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_list_costs_the_same_queries_for_one_petition_or_many(
    client, make_live, django_assert_max_num_queries
):
    for n in range(5):
        make_live(f"Campaign {n}")
    with django_assert_max_num_queries(2):  # the count and the page, campaigns joined in
        assert len(_list(client).json()["results"]) == 5

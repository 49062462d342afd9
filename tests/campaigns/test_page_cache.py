"""Whole anonymous public pages served from the cache (campaigns/page_cache.py): what is per
request stays per request, nothing of one visitor reaches another, and changes show at once."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns import page_cache, services
from campaigns.models import Petition, Signature
from campaigns.signing import token_make

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHALLENGE = re.compile(r'<altcha-widget challenge="([^"]+)"')
SIGNER = {"name": "Anna Smirnova", "email": "anna@example.org", "country": "DE", "display": "full"}


def _page(client: Client, url: str, **extra: str) -> str:
    response = client.get(url, **extra)
    assert response.status_code == 200
    html = response.content.decode()
    for mark in vars(page_cache.MARKS).values():
        assert mark not in html  # every mark is filled in
    return html


def _cached(django_assert_num_queries, client: Client, url: str) -> str:
    """The page, served without a single database query: from the cache."""
    with django_assert_num_queries(0):
        return _page(client, url)


def test_two_anonymous_visitors_get_their_own_csrf_token_and_challenge(
    live, django_assert_num_queries
):
    url = live.petition.get_absolute_url()
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    html_1 = _page(first, url)
    html_2 = _cached(django_assert_num_queries, second, url)
    tokens_1, tokens_2 = set(CSRF.findall(html_1)), set(CSRF.findall(html_2))
    assert tokens_1 and tokens_2 and not tokens_1 & tokens_2
    assert CHALLENGE.search(html_1).group(1) != CHALLENGE.search(html_2).group(1)
    # Each token is the visitor's own: the second visitor's form posts with the cached page's.
    response = second.post(url, {**SIGNER, "csrfmiddlewaretoken": CSRF.search(html_2).group(1)})
    assert response.status_code == 302
    assert Signature.objects.count() == 1
    refused = first.post(
        url,
        {**SIGNER, "email": "b@example.org", "csrfmiddlewaretoken": CSRF.search(html_2).group(1)},
    )
    assert refused.status_code == 403  # another visitor's token is worth nothing


def test_the_return_address_is_each_visitors_own(live, django_assert_num_queries):
    url = live.petition.get_absolute_url()
    _page(Client(), url + "?utm=first-visitor")
    html = _cached(django_assert_num_queries, Client(), url + "?utm=second")
    assert "first-visitor" not in html
    assert 'name="next" value="' + url + '?utm=second"' in html


def test_signed_in_people_are_never_served_or_stored(live, client):
    url = live.petition.get_absolute_url()
    anonymous = _page(Client(), url)
    assert reverse("account_logout") not in anonymous
    client.force_login(live.admins[0])
    signed_in = _page(client, url)
    assert reverse("account_logout") in signed_in  # not the anonymous page from the cache
    # ...and what a signed-in person saw is not what the next anonymous visitor gets.
    later = _page(Client(), url)
    assert reverse("account_logout") not in later
    assert reverse("members:dashboard") not in later


def test_messages_are_shown_to_their_visitor_only(live, django_assert_num_queries):
    url = live.petition.get_absolute_url()
    _page(Client(), url)  # the page is in the cache
    signature = services.signature_create(
        petition=live.petition, name="Anna", email="anna@example.org", country="DE"
    )
    visitor = Client()
    confirm = visitor.post(reverse("campaigns:confirm", args=[token_make(signature.pk, "confirm")]))
    assert confirm.status_code == 302 and confirm["Location"].startswith(url)
    thanks = "Your signature is confirmed."
    assert thanks in _page(visitor, url)
    assert thanks not in _cached(django_assert_num_queries, Client(), url)
    assert thanks not in _page(visitor, url)  # shown once


def test_a_cosponsors_source_has_its_own_variant_and_any_other_is_none(
    live, django_assert_num_queries
):
    url = live.petition.get_absolute_url()
    slug = live.orgs[1].slug
    plain = _page(Client(), url)
    assert f'name="source" value="{slug}"' not in plain
    sourced = _page(Client(), f"{url}?source={slug}")
    assert f'name="source" value="{slug}"' in sourced
    assert f'name="source" value="{slug}"' in _cached(
        django_assert_num_queries, Client(), f"{url}?source={slug}"
    )
    assert f'name="source" value="{slug}"' not in _cached(django_assert_num_queries, Client(), url)
    typed = _cached(django_assert_num_queries, Client(), f"{url}?source=%22%3E%3Cscript%3E")
    assert 'name="source" value=""' in typed and "<script>" not in typed


def test_each_language_has_its_own_page(live, django_assert_num_queries):
    live.petition.title_ru = "Сохраните наши счета"
    live.petition.save()
    url = live.petition.get_absolute_url()
    english, russian = Client(), Client()
    english.cookies["django_language"] = "en"
    russian.cookies["django_language"] = "ru"
    assert "Keep our accounts open" in _page(english, url)
    assert "Сохраните наши счета" in _page(russian, url)
    assert '<html lang="ru">' in _cached(django_assert_num_queries, russian, url)
    en_cached = _cached(django_assert_num_queries, english, url)
    assert '<html lang="en">' in en_cached and "Сохраните наши счета" not in en_cached


def _fold() -> None:
    while services.signature_counts_fold():
        pass


def test_a_confirmed_signature_shows_once_the_fold_counts_it(live):
    url = live.petition.get_absolute_url()
    assert "<strong>0</strong>" in _page(Client(), url)
    signature = services.signature_create(
        petition=live.petition, name="Anna", email="anna@example.org", country="DE"
    )
    services.signature_confirm(token=token_make(signature.pk, "confirm"))
    assert "<strong>0</strong>" in _page(Client(), url)  # not folded yet: the same count
    _fold()
    assert "<strong>1</strong>" in _page(Client(), url)


def test_text_and_cosponsor_changes_show_at_once(live):
    petition_url, campaign_url = live.petition.get_absolute_url(), live.campaign.get_absolute_url()
    _page(Client(), petition_url)
    _page(Client(), campaign_url)
    services.campaign_update(
        campaign=live.campaign,
        organization=live.orgs[0],
        user=live.admins[0],
        body_en="Banks must follow **the new law**.",
    )
    assert "<strong>the new law</strong>" in _page(Client(), campaign_url)
    assert "Gamma Group" not in _page(Client(), petition_url)
    live.outsider_joins()
    assert "Gamma Group" in _page(Client(), petition_url)
    assert "Gamma Group" in _page(Client(), campaign_url)


def test_a_paused_campaigns_petition_stops_offering_the_form(live):
    url = live.petition.get_absolute_url()
    assert "Sign the petition" in _page(Client(), url)
    third = live.orgs[1]
    services.cosponsor_withdraw(campaign=live.campaign, organization=third, user=live.admins[1])
    html = _page(Client(), url)
    assert "Sign the petition" not in html


def test_the_embed_is_cached_and_still_frameable(live, django_assert_num_queries):
    url = reverse("campaigns:embed", args=[live.petition.slug])
    Client().get(url)
    with django_assert_num_queries(0):
        response = Client().get(url)
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert "X-Frame-Options" not in response
    assert CSRF.search(response.content.decode())


def test_pages_are_rendered_when_the_shared_cache_is_down(live, settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
    assert "Keep our accounts open" in _page(Client(), live.petition.get_absolute_url())


def test_marks_are_unguessable_per_process():
    marks = page_cache._Marks()
    assert marks.csrf != page_cache.MARKS.csrf
    assert len(page_cache.MARKS.csrf) > 30


def test_stored_markdown_follows_the_text_and_its_fallback_language(live):
    live.petition.text_en = ""
    live.petition.text_ru = "Мы **просим**"
    live.petition.save(update_fields=["text_en", "text_ru"])
    live.petition.refresh_from_db()
    assert live.petition.text_html_ru == "<p>Мы <strong>просим</strong></p>"
    assert live.petition.text_html == "<p>Мы <strong>просим</strong></p>"  # English reader
    # A save of the counts only (the fold's) leaves the stored HTML alone.
    Petition.objects.filter(pk=live.petition.pk).update(text_html_ru="kept")
    live.petition.confirmed_count = 5
    live.petition.save(update_fields=["confirmed_count"])
    live.petition.refresh_from_db()
    assert live.petition.text_html_ru == "kept"


def test_unknown_slugs_leave_nothing_in_the_shared_cache(live):
    from django.core.cache import cache

    for n in range(3):
        assert Client().get(f"/petitions/no-such-petition-{n}/").status_code == 404
        assert Client().get(f"/campaigns/no-such-campaign-{n}/").status_code == 404
        assert cache.get(page_cache._version_key("petition", f"no-such-petition-{n}")) is None
        assert cache.get(page_cache._version_key("campaign", f"no-such-campaign-{n}")) is None


def test_a_page_rendered_across_a_change_is_not_stored(
    live, django_assert_num_queries, monkeypatch
):
    """A change committed while a page was being rendered (its token made meanwhile) keeps that
    page out of the cache: the next visitor's page is rendered from the database again."""
    url = live.petition.get_absolute_url()
    original_render = page_cache.PublicPage.render

    def render_with_a_change_meanwhile(self, *args, **kwargs):
        page_cache.public_pages_changed(campaign_ids=[live.campaign.pk])
        return original_render(self, *args, **kwargs)

    monkeypatch.setattr(page_cache.PublicPage, "render", render_with_a_change_meanwhile)
    _page(Client(), url)
    monkeypatch.setattr(page_cache.PublicPage, "render", original_render)
    with pytest.raises(pytest.fail.Exception):
        _cached(django_assert_num_queries, Client(), url)
    _cached(django_assert_num_queries, Client(), url)  # that one was stored

"""Share links, link previews (Open Graph / Twitter cards), the og:image and hreflang."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from PIL import Image

from campaigns import og_image, page_cache, services
from campaigns.models import Campaign, Petition, PetitionChannelCount, Signature

pytestmark = pytest.mark.django_db

SITE = "http://testserver"  # settings.SITE_URL in tests (tests/conftest.py)
CHANNELS = ["telegram", "whatsapp", "facebook", "x", "vk", "email"]


class _Head(HTMLParser):
    """What a link-preview bot reads: <meta property|name=... content=...> and <link>s."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.links: list[dict[str, str]] = []
        self.anchors: list[dict[str, str]] = []
        self.inputs: list[dict[str, str]] = []
        self.scripts: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "meta" and ("property" in a or "name" in a):
            self.meta.setdefault(a.get("property") or a["name"], []).append(a.get("content", ""))
        elif tag == "link":
            self.links.append(a)
        elif tag == "a":
            self.anchors.append(a)
        elif tag == "input":
            self.inputs.append(a)
        elif tag == "script":
            self.scripts.append(a)


def _read(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    return parser


def _bot() -> Client:
    """A link-preview fetcher: no cookies, no JavaScript, a plain GET."""
    return Client(headers={"User-Agent": "TelegramBot (like TwitterBot)"})


def _one(head: _Head, key: str) -> str:
    assert len(head.meta.get(key, [])) == 1, (key, head.meta.get(key))
    return head.meta[key][0]


def _fold() -> None:
    while services.signature_counts_fold():
        pass


def _png(client: Client, url: str):
    assert url.startswith(SITE + "/og/"), url  # from our own host
    response = client.get(url.removeprefix(SITE))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "max-age=31536000" in response["Cache-Control"]
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    return image, response.content


# --- link previews ----------------------------------------------------------------------------


def test_link_preview_bot_finds_open_graph_tags_and_a_1200x630_png(live):
    bot = _bot()
    response = bot.get(live.campaign.get_absolute_url())
    assert response.status_code == 200
    head = _read(response.content.decode())
    assert _one(head, "og:title") == "Bank accounts for all"
    assert _one(head, "og:description") == "Everyone legally resident deserves an account."
    assert _one(head, "og:type") == "article"
    assert _one(head, "og:site_name") == "Coalition"
    assert _one(head, "og:locale") == "en_US"
    assert head.meta["og:locale:alternate"] == ["ru_RU"]
    canonical = f"{SITE}/campaigns/{live.campaign.slug}/?lang=en"
    assert _one(head, "og:url") == canonical
    assert [link["href"] for link in head.links if link.get("rel") == "canonical"] == [canonical]
    alternates = {
        link["hreflang"]: link["href"] for link in head.links if link.get("rel") == "alternate"
    }
    assert alternates == {
        "en": canonical,
        "ru": f"{SITE}/campaigns/{live.campaign.slug}/?lang=ru",
        "x-default": f"{SITE}/campaigns/{live.campaign.slug}/",
    }
    assert _one(head, "og:image:width") == "1200" and _one(head, "og:image:height") == "630"
    assert "Bank accounts for all" in _one(head, "og:image:alt")
    assert _one(head, "twitter:card") == "summary_large_image"
    assert _one(head, "twitter:image") == _one(head, "og:image")
    image, _raw = _png(bot, _one(head, "og:image"))
    assert image.size == (1200, 630)
    assert "django_language" not in bot.cookies  # the URL alone chose the card's language


def test_petition_page_has_its_own_card(live):
    head = _read(_bot().get(live.petition.get_absolute_url()).content.decode())
    assert _one(head, "og:title") == "Keep our accounts open"
    assert "/og/petition/" in _one(head, "og:image")
    assert _one(head, "og:url") == f"{SITE}/petitions/{live.petition.slug}/?lang=en"
    image, _raw = _png(_bot(), _one(head, "og:image"))
    assert image.size == (1200, 630)


def test_russian_page_selected_by_url_gives_a_russian_card(live):
    Campaign.objects.filter(pk=live.campaign.pk).update(
        title_ru="Банковские счета для всех", summary_ru="Каждый, кто живёт здесь законно."
    )
    bot = _bot()
    english = _read(bot.get(live.campaign.get_absolute_url()).content.decode())
    russian = _read(bot.get(live.campaign.get_absolute_url() + "?lang=ru").content.decode())
    assert _one(russian, "og:locale") == "ru_RU"
    assert russian.meta["og:locale:alternate"] == ["en_US"]
    assert _one(russian, "og:title") == "Банковские счета для всех"
    assert _one(russian, "og:url").endswith("?lang=ru")
    assert _one(russian, "og:image") != _one(english, "og:image")
    assert "/ru/" in _one(russian, "og:image")
    _image, ru_png = _png(bot, _one(russian, "og:image"))
    _image, en_png = _png(bot, _one(english, "og:image"))
    assert ru_png != en_png
    # The URL wins over a cookie: a Russian link opens in Russian for an English reader too.
    reader = Client()
    reader.cookies["django_language"] = "en"
    page = reader.get(live.campaign.get_absolute_url() + "?lang=ru").content.decode()
    assert '<html lang="ru">' in page and "Банковские счета для всех" in page
    assert "django_language" not in reader.get("/?lang=ru").cookies  # not remembered


def test_unknown_language_in_the_url_is_ignored(live):
    head = _read(_bot().get(live.campaign.get_absolute_url() + "?lang=xx").content.decode())
    assert _one(head, "og:locale") == "en_US"


def test_og_image_bad_ids_and_languages_are_404_never_500(live):
    card = og_image.card_for(live.campaign, language="en")
    good = og_image.image_path(live.campaign, card)
    assert Client().get(good).status_code == 200
    slug, digest = live.campaign.slug, card.digest
    for url in [
        f"/og/organization/{slug}/en/{digest}.png",
        f"/og/campaign/{slug}/de/{digest}.png",
        f"/og/campaign/no-such-campaign/en/{digest}.png",
        f"/og/petition/{slug}/en/{digest}.png",  # a campaign's slug is not a petition's
        f"/og/campaign/{slug}/en/{digest}.gif",
    ]:
        assert Client().get(url).status_code == 404, url
    Campaign.objects.filter(pk=live.campaign.pk).update(status=Campaign.Status.DRAFT)
    assert Client().get(good).status_code == 404  # a draft's title is not public


def test_image_regenerates_after_the_count_moves_past_its_bucket(live):
    Petition.objects.filter(pk=live.petition.pk).update(goal=1000)  # a bucket is 10 signatures
    live.petition.refresh_from_db()
    client = Client()

    def image_url() -> str:
        head = _read(client.get(live.petition.get_absolute_url()).content.decode())
        return _one(head, "og:image").removeprefix(SITE)

    first = image_url()
    _image, first_png = _png(client, SITE + first)
    # Set directly, as the fold would, which also has the cached pages rendered afresh.
    Petition.objects.filter(pk=live.petition.pk).update(confirmed_count=9)
    page_cache.public_pages_changed(campaign_ids=[live.campaign.pk])
    assert image_url() == first  # a few signatures more: the same image, still cached
    Petition.objects.filter(pk=live.petition.pk).update(confirmed_count=10)
    page_cache.public_pages_changed(campaign_ids=[live.campaign.pk])
    second = image_url()
    assert second != first
    _image, second_png = _png(client, SITE + second)
    assert second_png != first_png
    stale = client.get(first)  # a preview service holding the old URL is sent on
    assert stale.status_code == 302 and stale["Location"] == second
    assert "max-age=31536000" not in stale["Cache-Control"]


def test_og_image_shows_cosponsors_alphabetically_and_never_a_signer(live):
    signature = services.signature_create(
        petition=live.petition,
        name="Secret Person",
        email="secret@example.org",
        country="DE",
        display=Signature.Display.FULL_NAME,
    )
    services.signature_confirm(token=_confirm_token(signature))
    _fold()
    live.petition.refresh_from_db()
    card = og_image.card_for(live.petition, language="en")
    assert card.cosponsors_text == "Co-sponsored by: Alpha Aid, Beta Bridge"
    assert card.count == 1 and card.count_text == "1 signature of 100"
    assert "Secret" not in repr(card) and "secret@" not in repr(card)
    # The petition page does show her chosen name; the card drawn for it does not.
    assert "Secret Person" in Client().get(live.petition.get_absolute_url()).content.decode()


def _confirm_token(signature: Signature) -> str:
    from campaigns.signing import token_make

    return token_make(signature.pk, "confirm")


# --- share links ------------------------------------------------------------------------------


def _share_hrefs(head: _Head) -> dict[str, str]:
    return {
        a["class"].removeprefix("share-"): a["href"]
        for a in head.anchors
        if a.get("class", "").startswith("share-")
    }


def _shared_url(channel: str, href: str) -> str:
    """The URL of ours that the network's share link carries."""
    query = parse_qs(urlsplit(href).query)
    if channel == "whatsapp":
        return query["text"][0].rsplit(" ", 1)[1]
    if channel == "email":
        return query["body"][0].rsplit("\n", 1)[1]
    key = {"facebook": "u"}.get(channel, "url")
    return query[key][0]


def test_signer_who_came_through_a_cosponsor_shares_with_source_and_channel_only(
    live, django_capture_on_commit_callbacks
):
    client = Client()
    source = live.orgs[1].slug
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            live.petition.get_absolute_url() + f"?source={source}",
            {
                "name": "Мария Иванова",
                "email": "maria@example.org",
                "country": "LV",
                "display": "initial",
                "source": source,
            },
        )
    signature = Signature.objects.get()
    link = re.search(r"http://testserver(/signatures/confirm/\S+/)", mail.outbox[0].body)
    token = link.group(1).split("/")[-2]
    landed = client.post(link.group(1), follow=True)
    assert landed.redirect_chain[-1][0] == f"{live.petition.get_absolute_url()}?source={source}"
    html = landed.content.decode()
    assert "Thank you! Your signature is confirmed." in html
    hrefs = _share_hrefs(_read(html))
    assert sorted(hrefs) == sorted(CHANNELS)
    hosts = {c: urlsplit(h).netloc for c, h in hrefs.items()}
    assert hosts == {
        "telegram": "t.me",
        "whatsapp": "wa.me",
        "facebook": "www.facebook.com",
        "x": "x.com",
        "vk": "vk.com",
        "email": "",
    }
    assert hrefs["email"].startswith("mailto:?")
    for channel, href in hrefs.items():
        shared = _shared_url(channel, href)
        parts = urlsplit(shared)
        assert f"{parts.scheme}://{parts.netloc}" == SITE
        assert parts.path == live.petition.get_absolute_url()
        assert parse_qs(parts.query) == {"lang": ["en"], "source": [source], "ch": [channel]}
        decoded = unquote(href)
        if channel != "facebook":  # Facebook takes no text, only the URL (and reads its card)
            assert "Keep our accounts open" in decoded  # the prefilled text names the petition
        for secret in (token, str(signature.pk) + "/", "maria", "Мария", "signatures/"):
            assert secret not in decoded, (channel, secret)
    copy = [i for i in _read(html).inputs if i.get("id") == "share-copy-url"]
    assert len(copy) == 1 and "readonly" in copy[0]
    assert parse_qs(urlsplit(copy[0]["value"]).query) == {
        "lang": ["en"],
        "source": [source],
        "ch": ["link"],
    }
    assert token not in html


def test_share_links_without_javascript_or_another_host(live):
    html = Client().get(live.petition.get_absolute_url() + "?lang=ru").content.decode()
    head = _read(html)
    # Our own script only, by src (CSP: no inline script); no image or font of the networks.
    assert all(s.get("src", "").startswith("/static/") for s in head.scripts)
    assert "/static/js/share.js" in [s.get("src") for s in head.scripts]
    assert not re.search(r"<img[^>]+src=\"https?://", html)
    hrefs = _share_hrefs(head)
    assert "Я подписал(а) петицию" in unquote(hrefs["telegram"])  # the page's language
    assert parse_qs(urlsplit(_shared_url("telegram", hrefs["telegram"])).query)["lang"] == ["ru"]


def test_a_source_that_is_not_a_cosponsor_is_not_put_in_share_links(live):
    for source in (live.outsider.slug, 'evil"><script>', "nobody"):
        html = Client().get(live.petition.get_absolute_url(), {"source": source}).content.decode()
        for channel, href in _share_hrefs(_read(html)).items():
            assert "source" not in parse_qs(urlsplit(_shared_url(channel, href)).query)


# --- channel counts ---------------------------------------------------------------------------


def test_channel_visits_appear_on_the_dashboard_after_folding(live):
    url = live.petition.get_absolute_url()
    visitor = Client(headers={"User-Agent": "Mozilla/5.0"})
    visitor.get(url, {"ch": "telegram", "lang": "ru"})
    visitor.get(url, {"ch": "telegram"})
    visitor.get(url, {"ch": "vk", "source": live.orgs[0].slug})
    visitor.get(url, {"ch": "myspace"})  # not a channel of ours: not counted
    _bot().get(url, {"ch": "telegram"})  # Telegram fetching the preview is not a visit
    Client(headers={"User-Agent": "facebookexternalhit/1.1"}).get(url, {"ch": "facebook"})
    visitor.post(url + "?ch=whatsapp", {})  # a (failed) signature is not a visit
    admin = Client()
    admin.force_login(live.admins[0])
    dashboard = reverse(
        "results:campaign_dashboard", kwargs={"org": live.orgs[0].slug, "slug": live.campaign.slug}
    )
    assert "No visits through share links yet." in admin.get(dashboard).content.decode()
    assert not PetitionChannelCount.objects.exists()  # counted only by the folding job
    _fold()
    assert dict(PetitionChannelCount.objects.values_list("channel", "visits")) == {
        "telegram": 2,
        "vk": 1,
    }
    page = admin.get(dashboard).content.decode()
    assert re.search(r"<td>Telegram</td><td>2</td>", page)
    assert re.search(r"<td>VK</td><td>1</td>", page)
    csv_text = admin.get(dashboard, {"download": "channels"}).content.decode()
    assert "Telegram,2" in csv_text and "VK,1" in csv_text


def test_a_bot_farm_reloading_a_share_link_counts_only_up_to_the_budget(live, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "share_visit": "3/h"}
    visitor = Client(headers={"User-Agent": "Mozilla/5.0"})
    for _ in range(10):
        assert visitor.get(live.petition.get_absolute_url(), {"ch": "x"}).status_code == 200
    _fold()
    assert PetitionChannelCount.objects.get(channel="x").visits == 3


def test_rebuilding_signature_counts_keeps_pending_share_visits(live):
    Client().get(live.petition.get_absolute_url(), {"ch": "email"})
    services.signature_counts_rebuild(petition=live.petition)
    _fold()
    assert PetitionChannelCount.objects.get(channel="email").visits == 1


# --- language alternates ----------------------------------------------------------------------


def test_public_pages_name_their_languages_and_signer_link_pages_do_not(live):
    head = _read(Client().get(reverse("campaigns:list") + "?lang=ru").content.decode())
    assert {link.get("hreflang") for link in head.links if link.get("rel") == "alternate"} == {
        "en",
        "ru",
        "x-default",
    }
    signature = services.signature_create(
        petition=live.petition, name="Anna", email="anna@example.org", country="DE"
    )
    token = _confirm_token(signature)
    html = Client().get(reverse("campaigns:confirm", args=[token])).content.decode()
    head = _read(html)
    assert not [link for link in head.links if link.get("rel") in {"canonical", "alternate"}]
    assert "og:url" not in head.meta


def test_a_signer_led_to_the_letter_page_gets_share_links_without_the_letter_token(live, letters):
    signature = services.signature_create(
        petition=live.petition,
        name="Olga Smirnova",
        email="olga@example.org",
        country="DE",
        source=live.orgs[0],
    )
    client = Client()
    response = client.post(reverse("campaigns:confirm", args=[_confirm_token(signature)]))
    letter_url = response["Location"]
    assert letter_url.startswith("/letters/")
    html = client.get(letter_url).content.decode()
    hrefs = _share_hrefs(_read(html))
    assert sorted(hrefs) == sorted(CHANNELS)
    letter_token = letter_url.rstrip("/").rsplit("/", 1)[1]
    for channel, href in hrefs.items():
        query = parse_qs(urlsplit(_shared_url(channel, href)).query)
        assert query == {"lang": ["en"], "source": [live.orgs[0].slug], "ch": [channel]}
        assert letter_token not in unquote(href)
    # The letter page's own URL (with its token) is not repeated as a canonical URL either.
    assert not [link for link in _read(html).links if link.get("rel") == "canonical"]


@pytest.mark.parametrize(
    ("count", "goal", "shown"),
    [(0, 100, 0), (57, 100, 57), (9, 1000, 0), (19, 1000, 10), (99, 100_000, 0),
     (100, 100_000, 100), (1_999, 100_000, 1_000), (2_000, 100_000, 2_000)],
)  # fmt: skip
def test_the_image_shows_the_count_in_buckets_of_1_percent_or_the_last_milestone(
    count, goal, shown
):
    assert og_image.bucket(count, goal) == shown

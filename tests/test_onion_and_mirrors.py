"""Issue 16: the site as a Tor onion service and through mirrors.

Every public page is crawled under the clearnet host, a mirror's host and the onion host; no page
may carry an absolute link to the site's own domain. The few absolute URLs a page must carry
(canonical and hreflang links, og:url, og:image, the URL a share link passes on) follow the host
the page was served under (campaigns/sharing.py, ``site_base``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.conf import LazySettings
from django.core import mail
from django.test import Client
from django.urls import reverse

from campaigns.signing import token_make
from outbox.models import Email
from tests.campaigns.conftest import LiveCampaign
from tests.outbox.helpers import send_queued
from tests.test_permissions import PUBLIC_PAGES, World, actor_for, world  # noqa: F401

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
CLEARNET = "coalition.example"
ONION = "a" * 52 + "bcde.onion"
# As the tor daemon connects: to the onion port (settings.ONION_PORT), naming the onion.
VIA_ONION = {"HTTP_HOST": ONION, "SERVER_PORT": "8001"}
MIRROR = "mirror.example.net"
OUR_HOSTS = {CLEARNET, MIRROR, ONION, "testserver"}
# Attributes that hold a URL the browser follows or shows.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "content", "value", "srcset", "poster"}
# Where a page may (and must) hold an absolute URL: then it names the host the page is served on.
ABSOLUTE_ALLOWED = {
    ("link", "rel", "canonical"),
    ("link", "rel", "alternate"),
    ("meta", "property", "og:url"),
    ("meta", "property", "og:image"),
    ("meta", "name", "twitter:image"),
    ("input", "id", "share-copy-url"),
}
# Not crawled: accounts and the workspace need a session; static files and images hold no links.
SKIP_PREFIXES = ("/static/", "/media/", "/accounts/", "/staff", "/organizations/", "/api/")


@pytest.fixture
def hosts(settings: LazySettings) -> None:
    settings.SITE_URL = f"https://{CLEARNET}"
    settings.ONION_HOST = ONION
    settings.ONION_PORT = 8001
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, CLEARNET, MIRROR, ONION]
    settings.CSRF_TRUSTED_ORIGINS = [f"http://{ONION}"]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, bool]] = []  # (tag, url, absolute allowed here)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        allowed = any(
            t == tag and values.get(attr, "") == value for t, attr, value in ABSOLUTE_ALLOWED
        )
        for name, value in values.items():
            if name not in URL_ATTRIBUTES or not value:
                continue
            if name == "content" and not value.startswith(("http://", "https://", "//")):
                continue  # a description, a size: not a URL
            for url in value.split(",") if name == "srcset" else [value]:
                url = url.strip().split(" ")[0]
                self.urls.append((tag, url, allowed))
                # A share link to another network carries our page's URL in its query: it must
                # be absolute, and name the host the page is read under.
                if _host(url) not in OUR_HOSTS:
                    for _key, inner in parse_qsl(urlsplit(url).query):
                        if inner.startswith(("http://", "https://")):
                            self.urls.append((tag, inner, True))


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _crawl(client: Client, host: str, seeds: list[str]) -> dict[str, str]:
    """Every page reachable from the seeds by following relative links: path -> HTML."""
    pages: dict[str, str] = {}
    queue = deque(seeds)
    while queue and len(pages) < 400:
        path = queue.popleft()
        if path in pages or path.startswith(SKIP_PREFIXES):
            continue
        port = VIA_ONION["SERVER_PORT"] if host == ONION else "80"
        response = client.get(path, HTTP_HOST=host, SERVER_PORT=port)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            pages[path] = ""
            continue
        html = response.content.decode()
        pages[path] = html
        parser = _Links()
        parser.feed(html)
        for _tag, url, _allowed in parser.urls:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue
            target = urljoin(path, parts.path) + (f"?{parts.query}" if parts.query else "")
            queue.append(target)
    return pages


def _seeds(world: World) -> list[str]:  # noqa: F811
    actor = actor_for(world, "anonymous")
    seeds = ["/", "/no-such-page/"]
    for row in PUBLIC_PAGES:
        if row.route.startswith("api:"):
            continue
        seeds.append(reverse(row.route, kwargs=row.kwargs(world, actor)))
    # The signer's pages, reached through her links: public, though nobody links to them.
    olga = world.olga.pk
    seeds += [
        reverse("campaigns:confirm", args=[token_make(world.pavel.pk, "confirm")]),
        reverse("campaigns:withdraw", args=[token_make(olga, "withdraw")]),
        reverse("campaigns:not_me", args=[token_make(olga, "not-me")]),
        reverse("campaigns:embed", args=[world.petition.slug]),
    ]
    return seeds


@pytest.mark.parametrize("host", [CLEARNET, MIRROR, ONION])
def test_no_public_page_links_absolutely_to_the_site_s_own_domain(
    world: World,  # noqa: F811
    hosts: None,
    host: str,
) -> None:
    pages = _crawl(Client(), host, _seeds(world))
    crawled = [path for path, html in pages.items() if html]
    assert len(crawled) > 15, crawled  # the crawl really went through the site
    problems = []
    for path, html in pages.items():
        parser = _Links()
        parser.feed(html)
        for tag, url, allowed in parser.urls:
            target = _host(url)
            if target not in OUR_HOSTS:
                continue  # relative, or another site (a share page, an official's link)
            if not allowed:
                problems.append(f"{path}: <{tag}> {url}")
            elif target != host:
                problems.append(f"{path}: <{tag}> {url} names another host than {host}")
        if host != CLEARNET and CLEARNET in html:
            problems.append(f"{path}: names {CLEARNET} in its text")
    assert problems == [], "\n".join(problems[:20])


def test_a_page_under_the_onion_host_is_served_and_links_within_it(
    world: World,  # noqa: F811
    hosts: None,
) -> None:
    response = Client().get(world.petition.get_absolute_url(), **VIA_ONION)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<link rel="canonical" href="http://{ONION}/petitions/' in html
    assert f'content="http://{ONION}/og/' in html  # og:image, for a preview inside Tor
    assert CLEARNET not in html
    assert "Onion-Location" not in response  # the onion does not announce itself


def test_the_sign_form_posts_and_confirms_under_the_onion_host(
    live: LiveCampaign, hosts: None, settings: LazySettings
) -> None:
    """CSRF passes with the onion's own http origin; the mail links to the clearnet domain."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(live.petition.get_absolute_url(), **VIA_ONION)
    token = page.cookies["csrftoken"].value
    from tests.test_tor_limits import aged_nojs_token

    response = client.post(
        live.petition.get_absolute_url(),
        {
            "csrfmiddlewaretoken": token,
            "name": "Anna Onion",
            "email": "anna.onion@example.org",
            "country": "DE",
            "display": "anonymous",
            "nojs": aged_nojs_token(obj=live.petition.slug),
        },
        **VIA_ONION,
        HTTP_ORIGIN=f"http://{ONION}",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"].startswith("/")  # relative: stays on the onion
    send_queued()  # the worker renders the confirmation, with no request (and no host) at all
    [email] = [e for e in Email.objects.all() if "/signatures/confirm/" in e.body_text]
    assert f"https://{CLEARNET}/signatures/confirm/" in email.body_text
    assert ONION not in email.body_text
    del mail.outbox[:]


def test_onion_location_is_sent_on_public_pages_only_when_configured(
    world: World,  # noqa: F811
    hosts: None,
    settings: LazySettings,
    client: Client,
) -> None:
    url = world.petition.get_absolute_url()
    response = client.get(url + "?lang=ru", HTTP_HOST=CLEARNET)
    assert response["Onion-Location"] == f"http://{ONION}{url}?lang=ru"
    assert "Onion-Location" in client.get("/", HTTP_HOST=CLEARNET)
    # Never on a signer's link, a POST, an error or under the onion itself.
    confirm = reverse("campaigns:confirm", args=[token_make(world.pavel.pk, "confirm")])
    assert "Onion-Location" not in client.get(confirm, HTTP_HOST=CLEARNET)
    assert "Onion-Location" not in client.get("/no-such-page/", HTTP_HOST=CLEARNET)
    assert "Onion-Location" not in client.post(url, {}, HTTP_HOST=CLEARNET)
    assert "Onion-Location" not in client.get(url, **VIA_ONION)
    # Nor for someone signed in (their pages are private).
    client.force_login(world.editor)
    assert "Onion-Location" not in client.get("/", HTTP_HOST=CLEARNET)
    client.logout()
    settings.ONION_HOST = ""
    assert "Onion-Location" not in client.get(url, HTTP_HOST=CLEARNET)


def test_onion_requests_are_not_redirected_to_https_while_the_clearnet_is(
    live: LiveCampaign, hosts: None, settings: LazySettings
) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    url = live.petition.get_absolute_url()
    clearnet = Client().get(url, HTTP_HOST=CLEARNET)
    assert clearnet.status_code == 301 and clearnet["Location"].startswith("https://")
    onion = Client().get(url, **VIA_ONION)
    assert onion.status_code == 200
    assert "Strict-Transport-Security" not in onion  # http is the onion's transport
    assert 'href="https://' not in onion.content.decode().split("<body", 1)[0]


def _settings_with(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.ALLOWED_HOSTS); print(settings.CSRF_TRUSTED_ORIGINS)"
    )
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COALITION_", "DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "coalition.settings",
            "DJANGO_DEBUG": "1",
            "DJANGO_ALLOWED_HOSTS": CLEARNET,
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_onion_host_setting_adds_an_allowed_host_and_trusted_origins() -> None:
    done = _settings_with({"COALITION_ONION_HOST": ONION})
    assert done.returncode == 0, done.stderr
    hosts, origins = done.stdout.splitlines()[-2:]
    assert ONION in hosts and CLEARNET in hosts
    assert f"http://{ONION}" in origins


def test_a_malformed_onion_host_stops_start_up() -> None:
    done = _settings_with({"COALITION_ONION_HOST": "coalition.example"})
    assert done.returncode != 0
    assert "COALITION_ONION_HOST" in done.stderr


def test_only_the_tor_service_reaches_the_onion_port() -> None:
    """tor connects to web:8001 (the port that makes a request an onion one); gunicorn listens
    there beside 8000, and the compose file never publishes it to the host."""
    root = Path(__file__).resolve().parent.parent
    torrc = (root / "docker" / "tor" / "torrc").read_text()
    assert "HiddenServicePort 80 web:8001" in torrc and "web:8000" not in torrc
    assert '"--bind", "0.0.0.0:8001"' in (root / "Dockerfile").read_text()
    compose = (root / "docker-compose.yml").read_text()
    web = compose.split("\n  web:\n", 1)[1].split("\n  worker:", 1)[0]
    assert '- "8001"' in web and ":8001" not in web

"""Whole public pages (a petition, its embed, a campaign) for anonymous readers: rendered once per
version, language and share source, kept per process, and then served with only what belongs to
the one request filled in: the CSRF token, the proof-of-work challenge and the language switch's
return path. A request with flash messages to show is rendered, not served from the cache.

What can never be in a cached page: anything of a signed-in person (their requests are never
served from or stored in the cache), a form with errors (only an unbound GET page is stored),
anyone's CSRF token, challenge or address (rendered as marks, see ``_Marks``), anyone's messages
(such a page is never stored). The marks go in through the template context and the request, not
through the templates' markup, so a redesigned template stays safe. What a template or tag reads
from the request other than its path, host and language (a cookie, the session, a header) would be
the first visitor's in every copy: keep such reads out of these pages, or make them marks.

Freshness: every page has a version token in the shared cache (Redis in production), keyed by its
slug. ``public_pages_changed`` gives a campaign and its petitions new tokens when a change is made
(the count fold, a text, the co-sponsors, the status, an outcome). A reader takes the token *before*
reading the database, so a page rendered from data older than a change is stored under the older
token and never served after it. Changes made elsewhere (an organization renamed, an update
published) show after ``PAGE_SECONDS`` at most, and a petition's page expires at its deadline.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.messages import get_messages
from django.core.cache import cache, caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import get_language

from campaigns import pow
from foundation.nojs import nojs_token_issue

logger = logging.getLogger(__name__)

# How long a stored page may be served at most: bounds what no version token covers.
PAGE_SECONDS = 60
# Version tokens expire too (a page then renders once more): the shared cache never keeps keys of
# campaigns long gone.
VERSION_SECONDS = 7 * 24 * 3600
KINDS = frozenset({"petition", "embed", "campaign"})
_VERSION_PREFIX = "pagever:"


class _Marks:
    """Placeholders for the per-request parts. Random per process (the pages are kept per
    process): a co-sponsor who writes a petition text cannot know them, so cannot make a
    reader's CSRF token appear inside a link of their choosing."""

    def __init__(self) -> None:
        nonce = secrets.token_hex(16)
        self.csrf = f"csrf{nonce}"
        self.pow = f"pow{nonce}"
        self.path = f"/path{nonce}"
        # The aged, single-use token of a post without JavaScript (foundation/nojs.py).
        self.nojs = f"nojs{nonce}"


MARKS = _Marks()


@dataclass(frozen=True)
class _Stored:
    version: str
    html: str
    # The share sources (co-sponsors' slugs) this page has variants for; any other is no source.
    sources: frozenset[str]


def _pages() -> Any:
    return caches["pages"]


def _version_key(kind: str, slug: str) -> str:
    # The embed shows what the petition page shows: one token for both.
    return f"{_VERSION_PREFIX}{'campaign' if kind == 'campaign' else 'petition'}:{slug}"


def _page_key(kind: str, slug: str, language: str, source: str, host: str) -> str:
    # The host too: a page's canonical, og: and share URLs name the host it is read under (the
    # clearnet domain, a mirror, the onion; campaigns/sharing.py site_base).
    return f"page:{kind}:{slug}:{language}:{source}:{host}"


def _anonymous_get(request: HttpRequest) -> bool:
    # ?ch= counts a visit through a share link (a database write): such a request is rendered.
    return (
        request.method in ("GET", "HEAD")
        and "ch" not in request.GET
        and not request.user.is_authenticated
        # Looking does not use them up: the rendering view still shows them.
        and not get_messages(request)
    )


class _MarkedRequest:
    """The request as the templates see it while a page is rendered for the cache: its full path
    (the language switch's return address, with whatever query the visitor typed) is a mark."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)

    def get_full_path(self, force_append_slash: bool = False) -> str:
        return MARKS.path

    def build_absolute_uri(self, location: str | None = None) -> str:
        return self._request.build_absolute_uri(MARKS.path if location is None else location)


class PublicPage:
    """One request for a public page: ``hit()`` answers from the cache or gives None; else the
    view reads the database and answers with ``render()``, which also stores the page."""

    def __init__(self, request: HttpRequest, *, kind: str, slug: str) -> None:
        if kind not in KINDS:
            raise ValueError(kind)
        self.request = request
        self.kind = kind
        self.slug = slug
        self.language = (get_language() or "en")[:2]
        self.host = request.get_host()  # validated against ALLOWED_HOSTS by now
        self.version: str | None = None  # None: no token yet (or the shared cache is down)
        self.reachable = False
        if _anonymous_get(request):
            self.reachable, self.version = _version_read(_version_key(kind, slug))

    @property
    def cacheable(self) -> bool:
        return self.reachable

    def hit(self, *, source: str = "") -> HttpResponse | None:
        if self.version is None:
            return None
        pages = _pages()
        stored = pages.get(_page_key(self.kind, self.slug, self.language, "", self.host))
        if stored is None or stored.version != self.version:
            return None
        if source in stored.sources:
            stored = pages.get(_page_key(self.kind, self.slug, self.language, source, self.host))
            if stored is None or stored.version != self.version:
                return None
        return HttpResponse(_fill(self.request, stored.html, self.slug))

    def render(
        self,
        template: str,
        context: dict[str, Any],
        *,
        source: str = "",
        sources: Iterable[str] = (),
        expires_at: datetime | None = None,
    ) -> HttpResponse:
        """Render with marks, store the page (a variant per valid ``source``), fill it in."""
        if not self.reachable:
            raise RuntimeError("not a cacheable request")
        html = render_to_string(
            template,
            {
                **context,
                # The view's context wins over the context processors' (csrf_token, request,
                # messages: there are none, or the page would not be stored).
                "csrf_token": MARKS.csrf,
                "request": _MarkedRequest(self.request),
                "pow_challenge": MARKS.pow,
                "nojs_token": MARKS.nojs,
            },
            request=self.request,
        )
        timeout = PAGE_SECONDS
        if expires_at is not None:
            left = (expires_at - timezone.now()).total_seconds()
            if left > 0:  # a page past its deadline shows the petition closed: that lasts
                timeout = max(1, min(timeout, int(left)))
        version = self.version or _version_create(_version_key(self.kind, self.slug))
        if version is not None:
            _pages().set(
                _page_key(self.kind, self.slug, self.language, source, self.host),
                _Stored(version=version, html=html, sources=frozenset(sources)),
                timeout,
            )
        return HttpResponse(_fill(self.request, html, self.slug))


def _version_read(key: str) -> tuple[bool, str | None]:
    """Whether the shared cache answers, and the page's current token if it has one. A request
    for a slug that does not exist creates nothing: a token is made only when a page is stored."""
    try:
        version = cache.get(key)
    except Exception:
        logger.warning("page cache versions unavailable; rendering", exc_info=True)
        return False, None
    return True, version if isinstance(version, str) else None


def petition_version(slug: str) -> str | None:
    """The petition's current page version token, or None (no token yet, or the shared cache
    does not answer): what a per-process copy of the petition is kept under
    (``selectors.petition_for_sign``), so that a change renewing the token retires it too."""
    return _version_read(_version_key("petition", slug))[1]


def _version_create(key: str) -> str | None:
    """A first token for a page just rendered, or None if a change made one meanwhile: then the
    page may be older than that change and is not stored. (Renewals set the token; ``add``
    succeeds only where none was set since this request found none.)"""
    token = secrets.token_hex(8)
    try:
        return token if cache.add(key, token, timeout=VERSION_SECONDS) else None
    except Exception:
        logger.warning("page cache versions unavailable", exc_info=True)
        return None


def _fill(request: HttpRequest, html: str, slug: str) -> str:
    """The per-request parts of a stored page. A no-JavaScript token is bound to the page's
    slug: only petition and embed pages (both a petition's slug) carry the sign form."""
    html = html.replace(MARKS.csrf, get_token(request))
    if MARKS.pow in html:
        html = html.replace(MARKS.pow, escape(pow.challenge_json()))
    if MARKS.nojs in html:
        html = html.replace(MARKS.nojs, nojs_token_issue(purpose="sign", obj=slug))
    return html.replace(MARKS.path, escape(request.get_full_path()))


def public_pages_changed(*, campaign_ids: Iterable[int]) -> None:
    """Pages of these campaigns and of their petitions are rendered afresh (new version tokens).
    Called by the services that change what the pages show.

    Renewed now and again once the transaction commits: a reader between the two may take the
    first new token and render from the data as it was before the commit; the second renewal
    retires that page. (Now, too, so that code running inside one long transaction, such as a
    test, sees its own changes.)"""
    ids = sorted(set(campaign_ids))
    if ids:
        _versions_renew(ids)
        transaction.on_commit(lambda: _versions_renew(ids))


def _versions_renew(campaign_ids: list[int]) -> None:
    from campaigns.models import Campaign, Petition

    keys = [
        _version_key("campaign", slug)
        for slug in Campaign.objects.filter(pk__in=campaign_ids).values_list("slug", flat=True)
    ] + [
        _version_key("petition", slug)
        for slug in Petition.objects.filter(campaign_id__in=campaign_ids).values_list(
            "slug", flat=True
        )
    ]
    try:
        cache.set_many({key: secrets.token_hex(8) for key in keys}, timeout=VERSION_SECONDS)
    except Exception:
        # The stored pages then expire on their own, after PAGE_SECONDS at most.
        logger.warning("page cache versions not renewed", exc_info=True)

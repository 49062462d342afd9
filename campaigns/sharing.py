"""Share links and the page metadata that makes a pasted link show a proper card.

Share links are plain ``<a href>``s to each network's own share page: no script, image or font of
theirs is loaded by our pages (CSP: nothing from other hosts). The shared URL names the page's
language (``?lang=``), the co-sponsor whose link brought the signer (``?source=``, a co-sponsor's
slug, the same for everyone who came through it) and the channel (``?ch=telegram``). Nothing in it
tells one signer from another: no token, no signature id. Visits arriving with a channel marker
are counted per petition and channel through the append-only deltas the counting job folds
(``services.signature_counts_fold``): there is no per-visit row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.models import Petition, SignatureCountDelta
from foundation.ratelimit import RateLimited, limit

# The channel marker's values, in the order the links are shown. "link" is "copy link".
CHANNELS: dict[str, object] = {
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "facebook": "Facebook",
    "x": "X",
    "vk": gettext_lazy("VK"),
    "email": gettext_lazy("Email"),
    "link": gettext_lazy("Copied link"),
}

# Link-preview fetchers (Telegram, WhatsApp, Facebook, X, VK, Slack...) request the shared URL
# before any person does: their fetch is not a visit.
_PREVIEW_AGENT = re.compile(
    r"bot|crawl|spider|preview|facebookexternalhit|whatsapp|vkshare|embedly|skypeuripreview",
    re.IGNORECASE,
)

OG_LOCALES = {"en": "en_US", "ru": "ru_RU"}


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def site_base(request: HttpRequest | None) -> str:
    """Scheme and host of the page being served, when it is one of ours (an allowed host: the
    clearnet domain, a mirror's, the onion's), else COALITION_SITE_URL.

    The few absolute URLs a page must carry (canonical, og:url, og:image, the URL a share link
    passes on) then point where the reader is: a mirror or the onion copy works as it is, and
    a reader in Russia is never sent to the blocked domain. Mail, read outside any request,
    always links to COALITION_SITE_URL.
    """
    if request is None:
        return str(settings.SITE_URL)
    try:
        host = request.get_host()  # validated against ALLOWED_HOSTS
    except DisallowedHost:
        return str(settings.SITE_URL)
    return f"{request.scheme}://{host}"


def absolute(path: str, *, request: HttpRequest | None = None) -> str:
    return site_base(request) + path


def page_url(path: str, *, language: str, request: HttpRequest | None = None, **params: str) -> str:
    """An absolute URL of one of our pages in one language (``?lang=`` selects it: a link-preview
    bot has no cookie and sends no useful Accept-Language)."""
    query = {"lang": language, **{k: v for k, v in params.items() if v}}
    return f"{absolute(path, request=request)}?{urlencode(query)}"


@dataclass(frozen=True)
class ShareLink:
    channel: str
    label: str
    href: str


def share_links(
    *, petition: Petition, source_slug: str = "", request: HttpRequest | None = None
) -> dict[str, object]:
    """The share links for a petition in the active language, and the URL for "copy link".

    ``source_slug`` must already be a co-sponsor's slug (``valid_source``): it is put in the URLs.
    """
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    path = petition.get_absolute_url()
    text = _("I signed the petition “%(title)s”. Please sign it too:") % {"title": petition.title}

    def url(channel: str) -> str:
        return page_url(path, language=language, request=request, source=source_slug, ch=channel)

    def q(value: str) -> str:
        return quote(value, safe="")

    hrefs = {
        "telegram": f"https://t.me/share/url?url={q(url('telegram'))}&text={q(text)}",
        "whatsapp": f"https://wa.me/?text={q(text + ' ' + url('whatsapp'))}",
        "facebook": f"https://www.facebook.com/sharer/sharer.php?u={q(url('facebook'))}",
        "x": f"https://x.com/intent/post?url={q(url('x'))}&text={q(text)}",
        "vk": f"https://vk.com/share.php?url={q(url('vk'))}&title={q(text)}",
        "email": (f"mailto:?subject={q(petition.title)}&body={q(text + chr(10) + url('email'))}"),
    }
    return {
        "links": [
            ShareLink(channel, str(CHANNELS[channel]), href) for channel, href in hrefs.items()
        ],
        "copy_url": url("link"),
        "text": text,
    }


def valid_source(slug: str, cosponsor_slugs: set[str]) -> str:
    """The source slug if it is one of the campaign's co-sponsors, else none: a share link never
    carries text the visitor typed into the address bar."""
    return slug if slug in cosponsor_slugs else ""


def share_visit_record(request: HttpRequest, *, petition: Petition) -> bool:
    """Count one visit through a share link (``?ch=``), for this petition and channel only.

    Writes nothing for other requests, for link-preview fetchers, or past a per-network budget
    (a bot farm reloading ``?ch=x`` cannot fill the delta table or inflate a channel at will).
    """
    channel = request.GET.get("ch", "")
    if request.method != "GET" or channel not in CHANNELS:
        return False
    if _PREVIEW_AGENT.search(request.headers.get("User-Agent", "")):
        return False
    try:
        limit(request, scope="share_visit")
    except RateLimited:
        return False
    SignatureCountDelta.objects.create(
        petition=petition,
        kind=SignatureCountDelta.Kind.VISIT,
        country="",
        channel=channel,
        delta=1,
    )
    return True

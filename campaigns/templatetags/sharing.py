"""Share links, link-preview (Open Graph / Twitter card) tags and language alternates."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from campaigns import og_image, selectors, sharing
from campaigns.models import Campaign, Petition
from members.models import Organization

register = template.Library()


def _cosponsors(context: template.Context, campaign: Campaign) -> list[Organization]:
    """The co-sponsors the view already put in the context (read once per page), else read."""
    cosponsors = context.get("cosponsors")
    if cosponsors is None:
        cosponsors = selectors.campaign_cosponsors(campaign=campaign)
    return list(cosponsors)


def _language() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE)[:2]


# Pages whose URL is the same for everyone: only these name a canonical URL and their languages.
# Never a page reached through a signer's link (confirm, withdraw, letter, erase...): its URL
# holds a token, which must not be repeated into the page for a crawler or a cache to pick up.
PUBLIC_PAGES = frozenset(
    {
        "home",
        "campaigns:list",
        "campaigns:campaign",
        "campaigns:history",
        "campaigns:petition",
        "results:results",
        "members:directory",
        "members:organization",
        "members:decisions",
        "members:decision",
        "privacy:privacy",
    }
)


def _alternates(request: Any) -> dict[str, Any]:
    """Canonical URL (this page in this language) and one alternate per language; x-default is
    the bare URL, where the cookie or the browser's languages choose."""
    path = request.path if request is not None else "/"
    language = _language()
    return {
        "canonical": sharing.page_url(path, language=language, request=request),
        "alternates": [
            (code, sharing.page_url(path, language=code, request=request))
            for code in sharing.language_codes()
        ],
        "default": sharing.absolute(path, request=request),
    }


@register.inclusion_tag("_language_alternates.html", takes_context=True)
def language_alternates(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None or match.view_name not in PUBLIC_PAGES:
        return {}
    return _alternates(request)


@register.inclusion_tag("campaigns/_link_preview_meta.html", takes_context=True)
def link_preview_meta(context: template.Context, obj: Campaign | Petition) -> dict[str, Any]:
    language = _language()
    campaign = obj.campaign if isinstance(obj, Petition) else obj
    description = campaign.summary
    if not description and isinstance(obj, Petition):
        description = strip_tags(obj.text_html)
    card = og_image.card_for(obj, language=language, cosponsors=_cosponsors(context, campaign))
    alt = obj.title if not card.count_text else f"{obj.title} — {card.count_text}"
    return {
        **_alternates(context.get("request")),
        "title": obj.title,
        "description": Truncator(" ".join(description.split())).chars(280),
        "og_type": "article",
        "site_name": _("Coalition"),
        "locale": sharing.OG_LOCALES.get(language, "en_US"),
        "locale_alternates": [
            sharing.OG_LOCALES[code]
            for code in sharing.language_codes()
            if code != language and code in sharing.OG_LOCALES
        ],
        "image": sharing.absolute(og_image.image_path(obj, card), request=context.get("request")),
        "image_width": og_image.WIDTH,
        "image_height": og_image.HEIGHT,
        "image_alt": alt,
    }


@register.inclusion_tag("campaigns/_share_links.html", takes_context=True)
def share_links(context: template.Context, petition: Petition, source: str = "") -> dict[str, Any]:
    slugs = {o.slug for o in _cosponsors(context, petition.campaign)}
    return sharing.share_links(
        petition=petition,
        source_slug=sharing.valid_source(source, slugs),
        request=context.get("request"),
    )

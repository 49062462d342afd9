"""Letter templates: {placeholders} only, checked when saved, filled when sent."""

from __future__ import annotations

import re
import string

from django.utils.translation import gettext as _

PLACEHOLDERS = {
    "signer_name": "the signer's name",
    "signer_city": "the signer's city (may be empty)",
    "signer_country": "the signer's country of residence",
    "target_name": "the recipient's name",
    "target_title": "the recipient's title",
    "personal_message": "the signer's own words (may be empty)",
    "campaign_title": "the campaign's title",
}
_MARKUP = re.compile(r"[<>]|https?://|www\.", re.IGNORECASE)


def template_errors(text: str) -> list[str]:
    """Unknown or malformed placeholders in a template; empty when it is fine."""
    errors = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return [_("Unbalanced braces: write {{ and }} for literal braces.")]
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            errors.append(_("unknown placeholder {%(name)s}") % {"name": name})
        elif spec or conversion:
            errors.append(_("{%(name)s} takes no format or conversion") % {"name": name})
    return errors


def template_fill(text: str, values: dict[str, str]) -> str:
    # format_map never re-reads what it inserts: a signer's "{x}" stays literal text.
    return text.format_map(values)


def personal_message_errors(text: str, max_length: int) -> list[str]:
    errors = []
    if len(text) > max_length:
        errors.append(_("at most %(n)d characters") % {"n": max_length})
    if _MARKUP.search(text):
        errors.append(_("plain text only: no HTML or links"))
    return errors

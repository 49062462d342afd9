"""Letter templates: {placeholders} only, checked when saved, filled when sent."""

from __future__ import annotations

import re
import string

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
    except ValueError as exc:
        return [f"malformed braces: {exc}"]
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            errors.append(f"unknown placeholder {{{name}}}")
        elif spec or conversion:
            errors.append(f"{{{name}}} takes no format or conversion")
    return errors


def template_fill(text: str, values: dict[str, str]) -> str:
    # format_map never re-reads what it inserts: a signer's "{x}" stays literal text.
    return text.format_map(values)


def personal_message_errors(text: str, max_length: int) -> list[str]:
    errors = []
    if len(text) > max_length:
        errors.append(f"at most {max_length} characters")
    if _MARKUP.search(text):
        errors.append("plain text only: no HTML or links")
    return errors

"""Markdown written by co-sponsors, rendered and then sanitized (campaigns/text.py). Campaign and
petition texts are stored rendered (``text_html``/``body_html``); this filter is for the rest."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from campaigns.text import markdown_html

register = template.Library()


@register.filter(name="markdown")
def render_markdown(text: str) -> SafeString:
    return mark_safe(markdown_html(text))  # noqa: S308 - sanitized by nh3 in markdown_html

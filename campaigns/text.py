"""Markdown written by co-sponsors, rendered and then sanitized: no script, no remote images.

Rendered once when a text is saved (the models' ``*_html_*`` columns) rather than on every view:
it was 0.47 ms of each petition page (bench/sign_queries.py).
"""

from __future__ import annotations

import markdown as md
import nh3

_TAGS = {
    "p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "h2", "h3", "h4", "code",
    "pre", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def markdown_html(text: str) -> str:
    """Sanitized HTML of ``text``; safe to mark safe. A change to the rules here needs a data
    migration that re-renders the stored columns (see campaigns/migrations/0011_*)."""
    html = md.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    # Images are left out on purpose: a remote <img> would tell another host who reads the page.
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )

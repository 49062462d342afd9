"""The URL patterns: none is hidden behind another.

Django tries the patterns in order and takes the first that matches, so a pattern placed after a
more general one (``<str:action>/`` before ``dashboard/``) never serves its view. The order in
coalition/urls.py is chosen for speed (the public pages come early, issue 11); this test keeps
that choice from ever hiding a route."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.urls import Resolver404, get_resolver, resolve
from django.urls.resolvers import URLResolver

# A value each path converter accepts.
_SAMPLES = {
    "int": "7",
    "slug": "sample-slug",
    "str": "sample",
    "uuid": "12345678-1234-5678-1234-567812345678",
    "path": "a/b",
}
_CONVERTER = re.compile(r"<(?:(\w+):)?\w+>")


def _routes(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + pattern.namespace + ":" if pattern.namespace else namespace
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif pattern.name:
            yield prefix + str(pattern.pattern), namespace + pattern.name


def test_every_named_route_serves_its_own_view() -> None:
    checked, hidden = 0, []
    for route, name in _routes(get_resolver().url_patterns):
        if route.startswith("^") or "(?P" in route:
            continue  # a regular expression (admin, static files): no sample to build
        path = "/" + _CONVERTER.sub(lambda m: _SAMPLES.get(m.group(1) or "str", "x"), route)
        try:
            found = resolve(path).view_name
        except Resolver404:
            continue  # a converter of its own refused the sample
        checked += 1
        if found != name:
            hidden.append(f"{path}: {name} is hidden behind {found}")
    assert not hidden, "\n".join(hidden)
    assert checked > 200  # the site's own routes were walked, not an empty list


def test_the_public_pages_resolve_before_the_workspace_apps() -> None:
    """The order that makes the hot pages cheap (issue 11): campaigns' routes come before the
    apps that have no route under a campaign's workspace."""
    included = [
        getattr(p.urlconf_module, "__name__", "")
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and str(p.pattern) == ""
    ]
    first = included.index("campaigns.urls")
    assert set(included[:first]) <= {"results.urls", "outreach.urls", "updates.urls"}

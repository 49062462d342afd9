"""Every page a person can see, for the checks that look at all of them at once.

Used by tests/test_russian_pages.py (no English left on a Russian page) and by the browser checks
in tests/e2e/test_accessibility.py (axe-core at desktop and phone widths, and no sideways
scrolling at 320 px, WCAG 1.4.10).

The list is the permission table's world (tests/test_permissions.py): every route with a row
there whose GET answers 200 to someone is a page here, seen by the person who sees the most of it
(an admin of a co-sponsor before staff before a signer holding her own link before anyone
else). So a new page is checked as soon as it has its row in the permission table, which every
route must have. Pages the table does not list (allauth's own, error pages) are in EXTRA_PAGES:
adding one is one line there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.test import Client
from django.urls import reverse

from tests.test_permissions import TABLE, Actor, World, _client, actor_for

# Whose view of a page is checked, when several people get a 200: the one who sees the most
# (forms, buttons, signers' figures) first.
PREFERENCE = (
    "admin_of_cosponsor",
    "staff",
    "signer",
    "editor",
    "viewer",
    "admin_of_other_org",
    "admin_of_other_org_as_a",
    "anonymous",
)


@dataclass(frozen=True)
class Page:
    label: str
    role: str
    url: Callable[[World, Actor], str]
    status: int = 200


def _from_table() -> list[Page]:
    pages = []
    for row in TABLE:
        if row.json or row.token:
            continue  # the APIs: no HTML
        cells = row.expected("GET")
        role = next((role for role in PREFERENCE if cells[role] in {"200", "200w"}), None)
        if role is None:
            continue

        def url(world: World, actor: Actor, row: Any = row) -> str:
            return reverse(row.route, kwargs=row.kwargs(world, actor))

        pages.append(Page(row.label, role, url))
    return pages


def _named(name: str, **kwargs: Any) -> Callable[[World, Actor], str]:
    return lambda world, actor: reverse(name, kwargs=kwargs or None)


# Pages outside the permission table: one line each.
EXTRA_PAGES = [
    Page("account_login", "anonymous", _named("account_login")),
    Page("account_signup", "anonymous", _named("account_signup")),
    Page("account_reset_password", "anonymous", _named("account_reset_password")),
    Page("account_email", "viewer", _named("account_email")),
    Page("account_change_password", "viewer", _named("account_change_password")),
    Page("mfa_index", "admin_of_cosponsor", _named("mfa_index")),
    Page("not_found", "anonymous", lambda world, actor: "/no-such-page/", status=404),
]


def pages() -> list[Page]:
    return _from_table() + EXTRA_PAGES


def client_for(world: World, role: str) -> Client:
    """A test client signed in as ``role`` of the permission world, as the table signs them in."""
    return _client(actor_for(world, role))

"""No English interface text on a Russian page.

Every page of tests/pages.py is rendered in Russian and its interface text (text nodes and the
attributes people hear or read: aria-label, placeholder, title, alt, a button's value) is searched
for common English interface words. User content is not interface text: the world's campaigns,
organizations and people have English names, so the list holds only words that such content in
this world does not use; parts marked as another language (lang="en", e.g. the "English" button)
are skipped. Found on Russian pages before: Django 6.1's blank choice "- Select an option -".
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.utils import translation

from tests.pages import Page, client_for, pages
from tests.test_permissions import World, actor_for
from tests.test_permissions import world as world  # the fixture, shared

pytestmark = pytest.mark.django_db

# Common English interface words. Whole words, case-sensitive: "Save" is a button, "save" in an
# English organization's mission would not be; "option" is lower case in Django's blank choice.
ENGLISH_UI_WORDS = (
    "Select", "Submit", "Save", "Cancel", "Delete", "Next", "Previous", "Back", "Required",
    "option", "Choose", "Search", "Remove", "Edit", "Send", "Password", "Please", "Continue",
    "Sign", "Enter", "Filter", "Download", "Close", "Show", "Hide", "Menu", "Language", "Change",
    "Add", "Confirm", "Forgot", "Remember", "required", "This field", "Skip", "Home", "Yes",
    "Status", "Actions", "Date", "Name", "Email", "Help", "Error", "Page", "Loading",
)  # fmt: skip
_WORDS = re.compile(r"\b(" + "|".join(re.escape(w) for w in ENGLISH_UI_WORDS) + r")\b")
_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")
_SKIPPED = {"script", "style", "template"}


class _InterfaceText(HTMLParser):
    """Collects text and labelling attributes, leaving out other-language parts."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, skipped)

    def _skipping(self) -> bool:
        return any(skipped for _tag, skipped in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        lang = values.get("lang")
        skipped = tag in _SKIPPED or (lang is not None and not lang.startswith("ru"))
        if tag not in {"meta", "link", "input", "img", "br", "hr", "source", "col", "area"}:
            self._stack.append((tag, skipped))
        if skipped or self._skipping():
            return
        for name in _ATTRIBUTES:
            if values.get(name):
                self.found.append(str(values[name]))
        if tag == "input" and values.get("type") in {"submit", "button", "reset"}:
            self.found.append(str(values.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping() and data.strip():
            self.found.append(data.strip())


def english_in(html: str) -> list[str]:
    parser = _InterfaceText()
    parser.feed(html)
    return [text for text in parser.found if _WORDS.search(text)]


def test_the_scan_finds_english_interface_text() -> None:
    """The check can fail: Django's own blank choice and a plain English button are found, while
    the other-language parts and scripts are not read."""
    html = (
        '<html lang="ru"><body><select><option value="">- Select an option -</option></select>'
        "<button>Save</button><p>Сохранить</p>"
        '<button lang="en">English</button><script>var Next = 1;</script></body></html>'
    )
    assert english_in(html) == ["- Select an option -", "Save"]


def test_blank_choice_is_russian_on_russian_pages() -> None:
    from django import forms

    from campaigns.models import IssueArea

    class Form(forms.Form):
        area = forms.ModelChoiceField(queryset=IssueArea.objects.all())

    with translation.override("ru"):
        blank = str(Form()["area"])
    assert "Select an option" not in blank
    assert '<option value="" selected>Выберите…</option>' in blank


def _label(page: Page) -> str:
    return f"{page.label} as {page.role}"


def test_every_page_in_russian_has_no_english_interface_text(world: World) -> None:
    found: dict[str, list[str]] = {}
    statuses: dict[str, int] = {}
    clients = {}
    for page in pages():
        if page.role not in clients:
            clients[page.role] = client_for(world, page.role)
        client = clients[page.role]
        url = page.url(world, actor_for(world, page.role))
        response = client.get(url, headers={"accept-language": "ru"})
        if response.status_code != page.status:
            statuses[_label(page)] = response.status_code
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue  # exports, images, JSON
        body = response.content.decode()
        assert '<html lang="ru"' in body or "<html lang=ru" in body, _label(page)
        english = english_in(body)
        if english:
            found[f"{_label(page)} {url}"] = english
    assert not statuses, f"pages that did not answer as the table says: {statuses}"
    assert not found, "English interface text on Russian pages:\n" + "\n".join(
        f"{page}: {texts}" for page, texts in found.items()
    )

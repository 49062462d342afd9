"""Country choices for forms, sorted and rendered once per language instead of once per request.

The sign form's country `<select>` has ~250 options; Django renders each through the widget
template machinery, which was the largest single cost of the petition page (8-29 ms of a 22-76 ms
view, bench/README.md), and every signer loads that page. The list depends only on the reader's
language, so the sorted list and the rendered HTML are kept per language, per process.

Sorting: django-countries sorts by the Unicode Collation Algorithm only when pyuca is installed,
whose tables, loaded at start-up, cost every web and Celery process ~10 MiB (tracemalloc); its
fallback drops every non-ASCII letter, which leaves Russian unsorted. For country names in English
and Russian, comparing letters without their accents, case-folded, gives the dictionary order
(Åland next to Albania, Côte d'Ivoire among the Cs, Ё as Е, Й after И), so we sort here. Only
the admin's country fields still use django-countries' own (fallback) order.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django_countries import countries

_BLANK = ("", "—")
_CODE = re.compile(r"^[A-Z]{2}$")
# Enough for every language x country x error state; a bound on what odd input could add.
_MAX_RENDERED = 4096


def _collation_key(name: str) -> str:
    # Й is a letter of its own in Russian (after И), not an accented И; Ё sorts as Е.
    return "".join(
        letter if letter in "Йй" else _without_accents(letter) for letter in name
    ).casefold()


def _without_accents(letter: str) -> str:
    decomposed = unicodedata.normalize("NFKD", letter)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=16)
def _sorted_for(language: str) -> tuple[tuple[str, str], ...]:
    # Called with `language` active, so the names are those of that language.
    names = [(code, str(name)) for code, name in countries]
    return tuple(sorted(names, key=lambda item: (_collation_key(item[1]), item[1])))


def country_choices(*, blank: bool = True) -> list[tuple[str, str]]:
    """The countries in the active language's order, optionally after a blank "—" choice."""
    sorted_countries = list(_sorted_for(get_language() or settings.LANGUAGE_CODE))
    return [_BLANK, *sorted_countries] if blank else sorted_countries


class CountrySelect(forms.Select):
    """A `<select>` of `country_choices()` whose HTML is rendered once per language, value and
    attributes. Only for choices that depend on nothing but the language."""

    _rendered: ClassVar[dict[tuple[Any, ...], SafeString]] = {}

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        selected = "" if value in (None, "") else str(value)
        if selected and not _CODE.match(selected):
            # Whatever a client posted: rendered as usual, never kept.
            return super().render(name, value, attrs, renderer)
        key = (
            get_language(),
            type(renderer),
            name,
            selected,
            tuple(sorted((attrs or {}).items())),
            tuple(sorted(self.attrs.items())),
        )
        try:
            html = self._rendered.get(key)
        except TypeError:  # an unhashable attribute value: nothing to key on
            return super().render(name, value, attrs, renderer)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            if len(self._rendered) < _MAX_RENDERED:
                self._rendered[key] = html
        return html


class CountryField(forms.ChoiceField):
    """A required-by-default country choice in the reader's language, with a blank first entry."""

    widget = CountrySelect

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=country_choices, **kwargs)

    def valid_value(self, value: Any) -> bool:
        """A country code: looked up in a set, not by walking the 250 choices of the active
        language (ChoiceField's way, which built and normalized the list on every sign POST)."""
        return str(value) in _codes()


@lru_cache(maxsize=1)
def _codes() -> frozenset[str]:
    return frozenset(code for code, _name in countries)

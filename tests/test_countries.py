from __future__ import annotations

import pytest
from django import forms
from django.utils import translation

from foundation.countries import CountryField, CountrySelect, country_choices


def _select(value: str | None, **attrs: str) -> str:
    widget = CountrySelect()
    widget.choices = country_choices()
    return widget.render("country", value, attrs={"id": "id_country", **attrs})


def test_choices_are_sorted_in_the_readers_language():
    with translation.override("en"):
        english = country_choices()
    with translation.override("ru"):
        russian = country_choices(blank=False)
    assert english[0] == ("", "—")
    assert english[1][1] == "Afghanistan"
    assert dict(russian)["DE"] == "Германия"
    assert russian[0][1].startswith("А")  # Cyrillic A: collated in Russian, not by code
    assert len(russian) == len(english) - 1
    # Letters compare without their accents: Åland among the As, Côte d'Ivoire among the Cs.
    names = [name for _code, name in english]
    assert names.index("Afghanistan") < names.index("Åland Islands") < names.index("Albania")
    assert names.index("Costa Rica") < names.index("Côte d'Ivoire") < names.index("Croatia")
    ru_names = [name for _code, name in russian]
    assert ru_names.index("Гаити") < ru_names.index("Гайана")  # Й is its own letter, after И
    assert ru_names == sorted(ru_names, key=lambda n: n.replace("Ё", "Е").casefold())


def test_the_chosen_country_is_selected_and_the_html_is_reused():
    with translation.override("en"):
        germany = _select("DE")
        assert '<option value="DE" selected>Germany</option>' in germany
        assert _select("DE") is germany  # rendered once, then reused
        france = _select("FR")
    assert '<option value="FR" selected>' in france and 'value="DE" selected' not in france


def test_language_and_error_state_are_part_of_what_is_reused():
    with translation.override("ru"):
        russian = _select("")
    with translation.override("en"):
        english = _select("")
        invalid = _select("", **{"aria-invalid": "true"})
    assert ">Германия</option>" in russian and ">Germany</option>" in english
    assert 'aria-invalid="true"' in invalid and "aria-invalid" not in english


def test_posted_junk_is_rendered_escaped_and_never_kept():
    kept = len(CountrySelect._rendered)
    with translation.override("en"):
        html = _select('"><script>alert(1)</script>')
    assert "<script>" not in html and " selected" not in html
    assert len(CountrySelect._rendered) == kept


def test_the_field_accepts_exactly_the_codes_it_offers_in_every_language() -> None:
    """valid_value is a set lookup (issue 11): it must agree with the choices it replaced."""
    for language in ("en", "ru"):
        with translation.override(language):
            field = CountryField()
            offered = {code for code, _name in country_choices(blank=False)}
            assert all(field.valid_value(code) for code in offered)
            assert field.clean("DE") == "DE"
            assert not field.valid_value("")  # the blank choice is "no country", never one
            for bad in ("XX", "de", "DEU", "D", " DE", "<b>", "1"):
                assert not field.valid_value(bad)
                with pytest.raises(forms.ValidationError) as raised:
                    field.clean(bad)
                assert raised.value.code == "invalid_choice"

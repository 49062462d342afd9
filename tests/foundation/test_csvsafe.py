"""One helper escapes spreadsheet formulas in every CSV we write (foundation/csvsafe.py)."""

from __future__ import annotations

import csv
import io

import pytest

from foundation.csvsafe import csv_cell, csv_row


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_starting_like_a_formula_is_made_text(start):
    assert csv_cell(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"


@pytest.mark.parametrize("value", ["", None])
def test_an_empty_cell_stays_empty(value):
    assert csv_cell(value) == ""


@pytest.mark.parametrize("value", ["Anna Petrova", "Рига", "a=b", "1+1", " =x"])
def test_ordinary_text_is_unchanged(value):
    assert csv_cell(value) == value


def test_numbers_stay_numbers():
    assert csv_row([-3, 2.5, 0]) == [-3, 2.5, 0]


def test_results_downloads_escape_through_the_helper():
    from results.views import _csv

    response = _csv("x", ["a", "b", "c", "d"], [["", "=1+1", "\tcmd", "\rcmd"], [-1, "ok", "", 2]])
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1] == ["", "'=1+1", "'\tcmd", "'\rcmd"]
    assert rows[2] == ["-1", "ok", "", "2"]

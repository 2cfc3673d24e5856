"""CSV exports that a spreadsheet cannot turn into formulas."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import StreamingHttpResponse

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel in many locales splits a line on ";" (and on tabs): what follows one starts a new cell,
# so "ok;=HYPERLINK(...)" is a formula too.
_CELL_SPLIT = re.compile(r"[;\t]")


def safe_cell(value: Any) -> str:
    """Prefix a quote to cells a spreadsheet would run as a formula (CSV injection), also when
    the formula starts after a ";" or a tab, where a spreadsheet may split the cell."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS) or any(
        part.lstrip(" ").startswith(_FORMULA_STARTS[:4]) for part in _CELL_SPLIT.split(text)[1:]
    ):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([safe_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

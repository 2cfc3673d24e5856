"""Assets from a CSV file: reading the file (size, encoding, delimiter, row count) and checking
each row against the inventory as it is now. Nothing here writes: the preview stores what
`check_rows` found (`services.preview_import`) and applying checks the stored cells again
(`services.apply_import`), so a row that went stale between the two is refused, not half-applied.

A row is matched to an asset by its tag, else by its serial; an empty cell leaves the field as
it is (a CSV cannot say "clear this"). The columns are the export's (`COLUMNS`); `last_seen`,
written by the export, is read and ignored.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Lower

from tierline.assets.models import Asset, AssetType, Status
from tierline.assets.validation import NEXT_STATUSES, AssetError, clean_text
from tierline.core.csv_export import safe_cell
from tierline.core.text import normalise_text
from tierline.people import queries as people_queries

# The import's and the export's columns, in the template's order.
COLUMNS = (
    "tag",
    "type",
    "hostname",
    "serial",
    "make",
    "model",
    "supplier",
    "purchase_date",
    "purchase_cost",
    "warranty_end",
    "location",
    "assigned_to",
    "status",
)
# Written by the export, ignored by the import.
READ_ONLY_COLUMNS = ("last_seen",)
TEXT_COLUMNS = ("tag", "hostname", "serial", "make", "model", "supplier")
DATE_COLUMNS = ("purchase_date", "warranty_end")
# Any reference cell (a type, a location, a person) longer than this is refused as such.
REFERENCE_MAX = 254
# File signatures of what people upload instead of a CSV.
_NOT_CSV = {
    b"PK\x03\x04": "a spreadsheet or zip file (.xlsx, .ods)",
    b"\xd0\xcf\x11\xe0": "an old Excel file (.xls)",
    b"%PDF": "a PDF",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
}
SAVE_AS = "In the spreadsheet, choose Save as → “CSV UTF-8 (comma delimited)” and upload that."


# The key under which the reader leaves a note on a row it could not split (no column has it).
ROW_NOTE = "!"


class ImportFileError(ValueError):
    """The whole file is refused; the message says why, for a person."""


def max_bytes() -> int:
    return int(settings.TIERLINE.get("ASSET_IMPORT_MAX_BYTES", 2 * 2**20))


def max_rows() -> int:
    return int(settings.TIERLINE.get("ASSET_IMPORT_MAX_ROWS", 5000))


def _decode(data: bytes) -> str:
    for signature, kind in _NOT_CSV.items():
        if data.startswith(signature):
            raise ImportFileError(f"This is {kind}, not a CSV file. {SAVE_AS}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(f"The file is UTF-16 text; Tierline reads UTF-8. {SAVE_AS}")
    if data.count(b"\x00") > max(8, len(data) // 100):
        raise ImportFileError(f"This is a binary file, not a CSV file. {SAVE_AS}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFileError(
            f"The file is not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}); "
            f"it may be Windows-1252 or Latin-1. {SAVE_AS}"
        ) from None


def _delimiter(first_line: str) -> str:
    """Comma or semicolon (what Excel writes where the decimal mark is a comma), read from the
    header line: the one the header splits into more columns by."""
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;").delimiter
    except csv.Error:
        return ";" if first_line.count(";") > first_line.count(",") else ","


def _column_name(cell: str) -> str:
    return cell.strip().strip("'").strip().lower().replace(" ", "_").replace("-", "_")


@dataclass
class CsvFile:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line of the row's start, cells by column)
    delimiter: str


def read_csv(data: bytes) -> CsvFile:
    """The file's header and rows, or ImportFileError naming what is wrong with the whole file
    (too big, not UTF-8, not CSV, unknown columns, too many rows)."""
    if len(data) > max_bytes():
        raise ImportFileError(
            f"The file is {len(data):,} bytes; the most is {max_bytes():,}. Split it in parts."
        )
    text = _decode(data)
    if not text.strip():
        raise ImportFileError("The file is empty.")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    # Excel may write its separator on a line of its own before the header ("sep=;").
    offset = 0  # lines before the text the reader reads, for the line numbers shown
    if first_line.rstrip("\r") in ("sep=,", "sep=;"):
        delimiter = first_line[4]
        skipped, _newline, text = text.partition(first_line + "\n")
        offset = skipped.count("\n") + 1
    else:
        delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    start = 1 + offset
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1 + offset
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [_column_name(cell) for cell in cells]
                _check_header(header)
                continue
            if len(rows) >= max_rows():
                raise ImportFileError(
                    f"The file has more than {max_rows():,} rows; split it in parts."
                )
            extra = [cell for cell in cells[len(header) :] if cell.strip()]
            if extra:
                rows.append(
                    (line, {ROW_NOTE: f"has {len(cells)} cells; the header has {len(header)}"})
                )
                continue
            rows.append((line, dict(zip(header, cells, strict=False))))
    except csv.Error as error:
        raise ImportFileError(
            f"Line {reader.line_num + offset}: this is not a well-formed CSV file ({error})."
        ) from None
    if header is None:
        raise ImportFileError("The file is empty.")
    if not rows:
        raise ImportFileError("The file has a header and no rows.")
    return CsvFile(header=header, rows=rows, delimiter=delimiter)


def _check_header(header: list[str]) -> None:
    known = set(COLUMNS) | set(READ_ONLY_COLUMNS)
    unknown = [name for name in header if name and name not in known]
    if not set(header) & set(COLUMNS):
        raise ImportFileError(
            "The first line is not a header of asset columns. It names the columns: "
            + ", ".join(COLUMNS)
            + " (any of them, in any order; download the template)."
        )
    if unknown:
        shown = ", ".join(f"“{name[:40]}”" for name in unknown[:5])
        raise ImportFileError(
            f"Unknown column {shown}. The columns are: " + ", ".join(COLUMNS) + "."
        )
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            raise ImportFileError(f"The column “{name}” is in the header twice.")
        seen.add(name)
    if "tag" not in header and "serial" not in header:
        raise ImportFileError(
            "The header needs a tag or a serial column: rows are matched by them."
        )


def unguard(value: str) -> str:
    """A cell as it was before the export's formula guard (`core.csv_export.safe_cell`) put a
    quote before it, so an exported file imports back as it was."""
    if value.startswith("'") and safe_cell(value[1:]) == value:
        return value[1:]
    return value


@dataclass
class RowCheck:
    """What one row would do: "new", "update", "unchanged" or "error"."""

    line: int
    cells: dict[str, str]
    outcome: str = "new"
    reason: str = ""
    asset: Asset | None = None
    matched_by: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    status: str = ""
    changes: list[str] = field(default_factory=list)

    def as_stored(self) -> dict[str, Any]:
        """The check as the preview keeps it (JSON). PostgreSQL's jsonb cannot hold NUL: it is
        shown as U+FFFD; only a row in error can hold one, and such a row is never applied."""
        return {
            "line": self.line,
            "cells": {k: v.replace("\x00", "\ufffd") for k, v in self.cells.items()},
            "outcome": self.outcome,
            "reason": self.reason.replace("\x00", "\ufffd"),
            "asset_id": self.asset.pk if self.asset else None,
            "matched_by": self.matched_by,
            "changes": self.changes,
        }


class _RowError(ValueError):
    pass


@dataclass
class _Lookups:
    types: dict[str, AssetType]
    locations: dict[str, Any]
    people: dict[str, list[Any]]
    by_tag: dict[str, Asset]
    by_serial: dict[str, list[Asset]]


def _lookups(rows: list[dict[str, str]]) -> _Lookups:
    """Everything the rows name, in a handful of queries for the whole file."""

    def wanted(column: str) -> set[str]:
        return {unguard(r.get(column) or "").strip() for r in rows} - {""}

    tags = wanted("tag")
    serials = wanted("serial")
    people_named = {v.lower() for v in wanted("assigned_to") if len(v) <= REFERENCE_MAX}
    people: dict[str, list[Any]] = {}
    if people_named:
        found = (
            people_queries.everyone()
            .annotate(login=Lower("username"), mail=Lower("email"))
            .filter(Q(login__in=people_named) | Q(mail__in=people_named))
        )
        for person in found:
            for key in {person.login, person.mail} & people_named:
                people.setdefault(key, []).append(person)
    by_serial: dict[str, list[Asset]] = {}
    for asset in Asset.objects.filter(serial__in=serials).order_by("pk") if serials else []:
        by_serial.setdefault(asset.serial, []).append(asset)
    return _Lookups(
        types={t.name.casefold(): t for t in AssetType.objects.all()},
        locations={loc.name.casefold(): loc for loc in people_queries.locations()},
        people=people,
        by_tag={a.tag: a for a in Asset.objects.filter(tag__in=tags)} if tags else {},
        by_serial=by_serial,
    )


def _date(column: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _RowError(f"bad date in {column} “{text[:40]}”: write it as YYYY-MM-DD") from None


def _cost(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(" ", ""))
    except InvalidOperation:
        raise _RowError(f"purchase_cost “{text[:40]}” is not a number (write 1234.50)") from None
    if not value.is_finite() or value < 0 or value >= Decimal(10) ** 10:
        raise _RowError(f"purchase_cost “{text[:40]}” is out of range")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise _RowError(f"purchase_cost “{text[:40]}” has more than two decimals")
    return value


def _status(text: str) -> str:
    wanted = text.casefold()
    for value, label in Status.choices:
        if wanted in (value, str(label).casefold()):
            return value
    raise _RowError(f"unknown status “{text[:40]}” (one of: " + ", ".join(Status.values) + ")")


def _reference(column: str, text: str) -> None:
    if len(text) > REFERENCE_MAX:
        raise _RowError(f"{column} is longer than {REFERENCE_MAX} characters")
    try:
        normalise_text(text, label=column, multiline=False)
    except ValidationError as error:
        raise _RowError(error.messages[0].rstrip(".")) from None


def _values(cells: dict[str, str], lookups: _Lookups) -> tuple[dict[str, Any], str]:
    """The row's non-empty cells as the asset's field values, and its status ("" if none)."""
    values: dict[str, Any] = {}
    for column in TEXT_COLUMNS:
        if cells.get(column):
            try:
                values[column] = clean_text(column, cells[column])
            except AssetError as error:
                raise _RowError(str(error).rstrip(".")) from None
    for column in ("type", "location", "assigned_to"):
        if cells.get(column):
            _reference(column, cells[column])
    if cells.get("type"):
        found = lookups.types.get(cells["type"].casefold())
        if found is None:
            raise _RowError(f"unknown type “{cells['type'][:60]}”")
        values["asset_type"] = found
    for column in DATE_COLUMNS:
        if cells.get(column):
            values[column] = _date(column, cells[column])
    if cells.get("purchase_cost"):
        values["purchase_cost"] = _cost(cells["purchase_cost"])
    if cells.get("location"):
        found = lookups.locations.get(cells["location"].casefold())
        if found is None:
            raise _RowError(f"unknown location “{cells['location'][:60]}”")
        values["location"] = found
    if cells.get("assigned_to"):
        matches = lookups.people.get(cells["assigned_to"].lower(), [])
        if not matches:
            raise _RowError(f"unknown person “{cells['assigned_to'][:60]}” (a username or email)")
        if len(matches) > 1:
            raise _RowError(f"“{cells['assigned_to'][:60]}” names {len(matches)} people")
        values["assigned_to"] = matches[0]
    status = _status(cells["status"]) if cells.get("status") else ""
    return values, status


def _shown(value: Any) -> str:
    return "—" if value in (None, "") else str(value)


def _check_one(check: RowCheck, lookups: _Lookups, seen_tags: dict[str, int]) -> None:
    if ROW_NOTE in check.cells:  # the reader's note: a row with more cells than the header
        raise _RowError(check.cells[ROW_NOTE])
    check.cells = {k: unguard(v).strip() for k, v in check.cells.items() if k in COLUMNS}
    values, status = _values(check.cells, lookups)
    tag, serial = values.get("tag", ""), values.get("serial", "")
    if not tag and not serial:
        raise _RowError("a row needs a tag or a serial")
    if tag:
        if tag in seen_tags:
            raise _RowError(f"duplicate tag “{tag}” in the file (first on line {seen_tags[tag]})")
        seen_tags[tag] = check.line
    else:  # matched by serial alone: twice in the file would be two assets or one twice
        key = "serial:" + serial
        if key in seen_tags:
            raise _RowError(
                f"duplicate serial “{serial}” in the file (first on line {seen_tags[key]})"
            )
        seen_tags[key] = check.line
    asset = lookups.by_tag.get(tag) if tag else None
    if asset is not None:
        check.matched_by = "tag"
    elif serial:
        same = lookups.by_serial.get(serial, [])
        if len(same) > 1:
            raise _RowError(f"serial “{serial}” belongs to {len(same)} assets; give the tag")
        if same:
            asset = same[0]
            if tag and asset.tag and asset.tag != tag:
                raise _RowError(
                    f"serial “{serial}” belongs to the asset tagged “{asset.tag}”, not “{tag}”"
                )
            check.matched_by = "serial"
    check.values, check.status, check.asset = values, status, asset
    if asset is None:
        check.outcome = "new"
        return
    if status and status != asset.status and status not in NEXT_STATUSES[asset.status]:
        raise _RowError(
            f"an asset that is {Status(asset.status).label.lower()} cannot become "
            f"{Status(status).label.lower()}"
        )
    for name, new in values.items():
        old = getattr(asset, name)
        if old != new:
            check.changes.append(f"{name.replace('_', ' ')}: {_shown(old)} → {_shown(new)}")
    if status and status != asset.status:
        check.changes.append(f"status: {Status(asset.status).label} → {Status(status).label}")
    check.outcome = "update" if check.changes else "unchanged"


def check_rows(rows: list[tuple[int, dict[str, str]]]) -> list[RowCheck]:
    """Each row checked against the inventory now: what it would do, or why it cannot."""
    lookups = _lookups([cells for _line, cells in rows])
    seen_tags: dict[str, int] = {}
    checks = []
    for line, cells in rows:
        check = RowCheck(line=line, cells=dict(cells))
        try:
            _check_one(check, lookups, seen_tags)
        except _RowError as error:
            check.outcome, check.reason = "error", str(error)
            check.changes, check.asset = [], None
        checks.append(check)
    return checks

"""Reading ids and dates from what people type or send, with no way to a 500.

`str.isdigit()` is the trap: it is true for "²", which `int()` refuses, and for a twenty-digit
number that no database integer holds (SQLite raises OverflowError on it). A date at the edge
of the calendar (9999-12-31) overflows the moment a view adds a day to it. Everything that
turns request text into an id or a date goes through here, and so does text a record is looked
up by (a ticket number, a username): a NUL in it is a 500 on PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from tierline.core.text import refused_character

# The largest id a 64-bit signed database integer holds: PostgreSQL's bigint, SQLite's INTEGER.
MAX_ID = 2**63 - 1
_ID = re.compile(r"[0-9]{1,19}")

# Dates a help desk deals in. Far enough out for any real schedule or report, and far enough
# from the ends of Python's calendar that a view can add or take away days without overflowing.
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2999, 12, 31)
DATE_RANGE_MESSAGE = "Choose a date between 1970 and 2999."


def parse_id(value: Any) -> int | None:
    """A positive database id from text or an int; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if not isinstance(value, str) or not _ID.fullmatch(value := value.strip()):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def lookup_text(value: str) -> str | None:
    """`value` to look a record up by (a ticket number, a username), or None when no stored
    value can hold it: a NUL (PostgreSQL refuses the whole query where SQLite finds nothing),
    another control character or an unpaired surrogate (no database driver can encode one)."""
    return None if refused_character(value, multiline=False) else value


def date_in_range(day: date | None) -> bool:
    return day is None or MIN_DATE <= day <= MAX_DATE


def parse_date(value: Any) -> date | None:
    """A YYYY-MM-DD date within MIN_DATE..MAX_DATE; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if date_in_range(day) else None


class BoundedDateField(forms.DateField):
    """A date field that refuses dates outside MIN_DATE..MAX_DATE with a clear message."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if not date_in_range(value):
            raise ValidationError(DATE_RANGE_MESSAGE, code="out_of_range")


class BoundedDateTimeField(forms.DateTimeField):
    """A date-and-time field with the same calendar bounds as BoundedDateField."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        if value is not None and not date_in_range(value.date()):
            raise ValidationError(DATE_RANGE_MESSAGE, code="out_of_range")


class IdValuesMixin:
    """For ModelMultipleChoiceField: ids no database integer holds are invalid choices.

    Django's own field sends them to the database, where SQLite raises OverflowError.
    """

    error_messages: dict

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if parse_id(pk) is None:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)  # type: ignore[misc]

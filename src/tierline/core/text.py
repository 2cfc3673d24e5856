"""Plain text as people type it: stored as typed, in one normal form, escaped only when shown.

Every door that takes text (the portal's and the desk's forms, the API, the services) runs it
through `normalise_text`: Unicode NFC (so "é" typed two ways is one string), line breaks as LF
(browsers send a textarea's lines as CRLF), and a clear refusal, naming the field, of the
characters nobody types: NUL and the other control characters (tab and, where the field holds
lines, line breaks excepted) and unpaired surrogates (a JSON "\\ud800" is a Python str no
database can store). Nothing else is changed: `<`, `&` and quotes are kept, and escaped at
render by `core.sanitise.render_text` or Django's autoescape.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.deconstruct import deconstructible
from rest_framework import serializers

# Names people may know them by (the Unicode name of a control character is empty).
_CONTROL_NAMES = {
    0x00: "NUL",
    0x07: "BEL",
    0x08: "backspace",
    0x0B: "vertical tab",
    0x0C: "form feed",
    0x1B: "ESC",
    0x7F: "DEL",
    0x85: "next line",
}


def _describe(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return f"an unpaired surrogate (U+{code:04X})"
    if char in "\r\n":
        return "a line break"
    name = _CONTROL_NAMES.get(code)
    return f"a control character (U+{code:04X}{', ' + name if name else ''})"


def refused_character(text: str, *, multiline: bool = True) -> tuple[int, str] | None:
    """The first character `text` can't hold, as (1-based position, description); or None."""
    for position, char in enumerate(text, start=1):
        if char == "\t" or (multiline and char in "\r\n"):
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            return position, _describe(char)
    return None


def refusal_message(label: str, position: int, what: str, *, multiline: bool = True) -> str:
    if what == "a line break" and not multiline:
        return f"{label} must be on one line: remove the line break at character {position}."
    return (
        f"{label} contains {what} at character {position}, which can't be stored: "
        "remove it and try again."
    )


def normalise_text(value: str | None, *, label: str = "The text", multiline: bool = True) -> str:
    """`value` as Tierline stores it: NFC, line breaks as "\\n", nothing else changed.

    Raises ValidationError, naming `label`, when the text holds a character nobody types (see
    the module's docstring); with `multiline` False, a line break is refused too.
    Surrounding whitespace is kept: the callers strip, as Django's and DRF's fields do."""
    text = value or ""
    refused = refused_character(text, multiline=multiline)
    if refused is not None:
        position, what = refused
        raise ValidationError(
            refusal_message(label, position, what, multiline=multiline), code="refused_character"
        )
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


@deconstructible
class PlainTextValidator:
    """A field validator (Django forms and DRF alike) refusing what `normalise_text` refuses."""

    def __init__(self, label: Any = "This field", *, multiline: bool = True) -> None:
        self.label = label
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        if isinstance(value, str):
            normalise_text(value, label=f"“{self.label}”", multiline=self.multiline)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PlainTextValidator)
            and self.label == other.label
            and self.multiline == other.multiline
        )


FormOrSerializer = TypeVar("FormOrSerializer", bound=type)


def _is_null_check(validator: Any) -> bool:
    # Ours names the field and the character; Django's and DRF's say "Null characters are not
    # allowed." (DRF's surrogate check likewise), so the two would answer twice.
    name = type(validator).__name__
    return isinstance(validator, ProhibitNullCharactersValidator) or name in (
        "ProhibitNullCharactersValidator",
        "ProhibitSurrogateCharactersValidator",
    )


def _has_ours(field: Any) -> bool:
    """Already checked: a field inherited from a decorated form or serializer."""
    return any(isinstance(v, PlainTextValidator) for v in field.validators)


def accepts_plain_text(
    *, multiline: tuple[str, ...] = ()
) -> Callable[[FormOrSerializer], FormOrSerializer]:
    """Class decorator: every text field of a Django form or a DRF serializer refuses what
    `normalise_text` refuses, with a message naming the field.

    A form's field holds lines when its widget is a Textarea; a serializer's when it is named in
    `multiline` (JSON has no widget). Services normalise and check again: this puts the error
    next to the field, before anything else runs."""

    def decorate(cls: FormOrSerializer) -> FormOrSerializer:
        if hasattr(cls, "base_fields"):  # a Django form: its fields are copied per form
            for name, field in cls.base_fields.items():
                if isinstance(field, forms.CharField) and not _has_ours(field):
                    lines = name in multiline or isinstance(field.widget, forms.Textarea)
                    label = field.label or name.replace("_", " ").capitalize()
                    field.validators = [v for v in field.validators if not _is_null_check(v)]
                    field.validators.append(PlainTextValidator(label, multiline=lines))
            return cls
        # A DRF serializer builds its fields again from their arguments for each instance:
        # add the check to the fields it has built.
        build_fields = cls.get_fields

        def get_fields(self: Any) -> dict[str, Any]:
            fields = build_fields(self)
            for name, field in fields.items():
                if isinstance(field, serializers.CharField) and not _has_ours(field):
                    validator = PlainTextValidator(name, multiline=name in multiline)
                    kept = [v for v in field.validators if not _is_null_check(v)]
                    field.validators = [*kept, validator]
            return fields

        cls.get_fields = get_fields
        return cls

    return decorate

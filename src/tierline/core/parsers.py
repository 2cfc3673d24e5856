"""Request body parsers for the API."""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json as drf_json

# No Tierline request needs more than a few levels (a checklist in a work order is the deepest);
# Python's json module recurses per level and a body of 100,000 "[" would end in RecursionError.
MAX_JSON_DEPTH = 32


# A JSON string (escapes included), and a bracket: the scan below looks only at brackets left
# once the strings are taken out, both in C; a character-by-character Python loop took 27 ms
# for an agent's 100 KB report.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when brackets outside strings nest deeper than `limit`; a scan, no recursion."""
    if text.count("[") + text.count("{") <= limit:  # the usual body: nothing to scan
        return False
    # With no backslash in the text every quote opens or closes a string, so what lies outside
    # the strings is every other piece between quotes (a split, in C: a third of the regex's
    # time on an agent's report); with escapes, the regex takes the strings out.
    outside = "".join(text.split('"')[::2]) if "\\" not in text else _STRING.sub("", text)
    depths = accumulate(map(_STEP.__getitem__, _BRACKET.findall(outside)))
    return next(filter(limit.__lt__, depths), None) is not None  # the first depth over limit


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than MAX_JSON_DEPTH with a 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = (stream.read() if stream is not None else b"").decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _too_deep(text):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        parse_constant = drf_json.strict_constant if self.strict else None
        try:
            return drf_json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None

"""The API's JSON depth check scans brackets outside strings (core/parsers.py); it agrees with
a plain character-by-character scan on nested, string-laden and escaped bodies."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tierline.core.parsers import MAX_JSON_DEPTH, _too_deep


def _by_characters(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def test_deep_bodies_are_caught_and_brackets_in_strings_are_not_counted():
    assert _too_deep("[" * 40 + "]" * 40)
    assert not _too_deep("[" + ",".join(['{"a": "' + "[" * 40 + '"}'] * 50) + "]")
    assert not _too_deep("[" + ",".join(['{"a": "x\\" ' + "[" * 40 + '"}'] * 50) + "]")
    assert _too_deep('{"a": "\\\\"' + "[" * 40)


_tokens = st.lists(
    st.one_of(
        st.sampled_from(["[", "]", "{", "}", ",", ":", " "]),
        st.text(alphabet='[]{}"\\ ab', max_size=12).map(json.dumps),
    ),
    max_size=120,
)


@given(_tokens)
def test_agrees_with_a_character_scan(tokens):
    # Brackets between closed JSON strings (any parsable body's are), escapes and brackets in
    # the strings included.
    text = "".join(tokens)
    assert _too_deep(text, 3) == _by_characters(text, 3)

"""core.text: the one normal form of typed text, and the one refusal of what nobody types."""

from __future__ import annotations

import unicodedata

import pytest
from django import forms
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from tierline.core.text import accepts_plain_text, normalise_text

# Every character people type: all but control characters and surrogates; tab and line
# breaks put back.
TYPED = st.lists(
    st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from(["\t", "\n", "\r\n", "\r"])
).map("".join)


def test_text_is_kept_as_typed():
    typed = 'Printer & scanner <2nd floor> "quoted" it\'s <john@example.com> &amp;'
    assert normalise_text(typed) == typed


def test_text_is_unicode_normalised_to_nfc():
    decomposed = "Cafe\u0301 in Zu\u0308rich"
    assert normalise_text(decomposed) == "Café in Zürich"
    assert normalise_text(decomposed) == unicodedata.normalize("NFC", decomposed)


def test_windows_and_old_mac_line_breaks_become_one_line_feed():
    assert normalise_text("one\r\ntwo\rthree\n") == "one\ntwo\nthree\n"


def test_tabs_are_kept():
    assert normalise_text("a\tb", multiline=False) == "a\tb"


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("ab\x00c", "contains a control character (U+0000, NUL) at character 3"),
        ("\x07", "contains a control character (U+0007, BEL) at character 1"),
        ("x\x1b[31m", "contains a control character (U+001B, ESC) at character 2"),
        ("x\x7f", "contains a control character (U+007F, DEL) at character 2"),
        ("x\x9b", "contains a control character (U+009B) at character 2"),
        ("x\ud800", "contains an unpaired surrogate (U+D800) at character 2"),
    ],
)
def test_control_characters_are_refused_with_the_field_and_the_character_named(typed, words):
    with pytest.raises(ValidationError) as refused:
        normalise_text(typed, label="Subject")
    assert refused.value.messages == [
        f"Subject {words}, which can't be stored: remove it and try again."
    ]


def test_a_line_break_in_a_one_line_field_is_refused():
    with pytest.raises(ValidationError) as refused:
        normalise_text("Printer\njams", label="Subject", multiline=False)
    assert refused.value.messages == [
        "Subject must be on one line: remove the line break at character 8."
    ]


@settings(max_examples=300, deadline=None)
@given(TYPED)
def test_any_typed_text_is_stored_as_its_nfc_form_with_lf_line_breaks(typed):
    expected = unicodedata.normalize("NFC", typed.replace("\r\n", "\n").replace("\r", "\n"))
    assert normalise_text(typed) == expected
    assert normalise_text(normalise_text(typed)) == expected  # once normal, it stays


@accepts_plain_text()
class _Form(forms.Form):
    title = forms.CharField(label="Title")
    notes = forms.CharField(label="Notes", widget=forms.Textarea, required=False)


@accepts_plain_text(multiline=("notes",))
class _Input(serializers.Serializer):
    title = serializers.CharField()
    notes = serializers.CharField(required=False)


def test_a_form_refuses_a_control_character_next_to_the_field_once():
    form = _Form({"title": "a\x00b", "notes": "one\r\ntwo"})
    assert not form.is_valid()
    assert form.errors == {
        "title": [
            "“Title” contains a control character (U+0000, NUL) at character 2, which can't "
            "be stored: remove it and try again."
        ]
    }


def test_a_form_holds_lines_only_in_a_textarea():
    form = _Form({"title": "one\ntwo", "notes": "one\ntwo"})
    assert not form.is_valid()
    assert list(form.errors) == ["title"]
    assert "must be on one line" in form.errors["title"][0]


def test_a_serializer_refuses_a_control_character_under_the_field_once():
    data = _Input(data={"title": "a\x00b", "notes": "x\x1by"})
    assert not data.is_valid()
    assert {name: [str(m) for m in messages] for name, messages in data.errors.items()} == {
        "title": [
            "“title” contains a control character (U+0000, NUL) at character 2, which can't "
            "be stored: remove it and try again."
        ],
        "notes": [
            "“notes” contains a control character (U+001B, ESC) at character 2, which can't "
            "be stored: remove it and try again."
        ],
    }


def test_a_serializer_takes_lines_where_it_says_so():
    data = _Input(data={"title": "Printer & <scanner>", "notes": "one\ntwo"})
    assert data.is_valid(), data.errors
    assert data.validated_data == {"title": "Printer & <scanner>", "notes": "one\ntwo"}
    assert not _Input(data={"title": "one\ntwo"}).is_valid()


def test_a_decorated_subclass_checks_each_field_once():
    @accepts_plain_text()
    class _More(_Form):
        extra = forms.CharField(label="Extra")

    @accepts_plain_text(multiline=("notes",))
    class _MoreInput(_Input):
        extra = serializers.CharField()

    form = _More({"title": "a\x00", "extra": "b\x00"})
    data = _MoreInput(data={"title": "a\x00", "extra": "b\x00"})
    assert not form.is_valid() and not data.is_valid()
    assert [len(form.errors[name]) for name in ("title", "extra")] == [1, 1]
    assert [len(data.errors[name]) for name in ("title", "extra")] == [1, 1]

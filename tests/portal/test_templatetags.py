"""Portal template helpers."""

from __future__ import annotations

from tierline.portal.templatetags.portal import file_size, requester_words, sanitised


def test_sanitised_keeps_formatting_and_drops_scripts():
    html = sanitised('<p>ok</p><script>alert(1)</script><a href="javascript:x">l</a>')
    assert "<p>ok</p>" in html
    assert "<script" not in html and "javascript:" not in html


def test_requester_words_translate_desk_labels():
    assert requester_words("In progress") == "We're working on it"
    assert requester_words("Something else") == "Something else"
    assert requester_words(None) == ""


def test_file_size_reads_naturally():
    assert file_size(512) == "512 bytes"
    assert file_size(1536) == "1.5 KB"
    assert file_size(3 * 2**20) == "3.0 MB"

"""Portal template helpers."""

from __future__ import annotations

from tierline.portal.templatetags.portal import file_size, requester_words, sanitised


def test_sanitised_shows_markup_as_text():
    html = sanitised('<p>ok</p><script>alert(1)</script><a href="javascript:x">l</a>')
    assert html == (
        "&lt;p&gt;ok&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
        "&lt;a href=&quot;javascript:x&quot;&gt;l&lt;/a&gt;"
    )


def test_requester_words_translate_desk_labels():
    assert requester_words("In progress") == "We're working on it"
    assert requester_words("Something else") == "Something else"
    assert requester_words(None) == ""


def test_file_size_reads_naturally():
    assert file_size(512) == "512 bytes"
    assert file_size(1536) == "1.5 KB"
    assert file_size(3 * 2**20) == "3.0 MB"

"""Header values are parsed once per process (`parsing._HeaderRegistry`), and only short ones
are kept: a sender must not fill the cache with megabyte-long headers."""

from __future__ import annotations

from tierline.mail import parsing


def raw(subject: str) -> bytes:
    return (
        "From: Ann <ann@example.com>\r\nTo: helpdesk@example.org\r\n"
        f"Subject: {subject}\r\nMessage-ID: <cache-test@example.com>\r\n\r\nBody\r\n"
    ).encode()


def test_a_short_header_is_parsed_once_and_read_the_same():
    subject = "Printer jam on floor 3 (cache test)"
    first = parsing.load(raw(subject))["Subject"]
    hits = parsing._parsed_header.cache_info().hits
    again = parsing.load(raw(subject))["Subject"]
    assert first == again == subject
    assert parsing._parsed_header.cache_info().hits > hits


def test_regression_a_huge_header_is_parsed_but_never_kept():
    parsing._parsed_header.cache_clear()
    parsing.load(raw("short"))["Subject"]  # From, To, Message-ID and Subject kept
    kept = parsing._parsed_header.cache_info().currsize
    subject = "x" * (parsing.CACHED_HEADER_CHARS * 50)
    read = parsing.load(raw(subject))["Subject"]
    assert read == subject
    assert parsing._parsed_header.cache_info().currsize == kept  # the huge one was not kept

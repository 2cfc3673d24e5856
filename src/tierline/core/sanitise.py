"""Cleaning text people type or mail in, before anyone's browser renders it."""

from __future__ import annotations

import nh3

_ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def clean_html(text: str) -> str:
    """Keep harmless formatting, drop scripts, handlers, styles and unknown tags."""
    return nh3.clean(
        text or "",
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def clean_text(text: str) -> str:
    """Plain text with any markup removed (subjects, names)."""
    return nh3.clean(text or "", tags=set()).strip()

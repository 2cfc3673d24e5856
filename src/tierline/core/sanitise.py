"""Cleaning text people type or mail in, before anyone's browser renders it."""

from __future__ import annotations

import re

import nh3
from django.utils.safestring import SafeString, mark_safe

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


_BLOCK_TAGS = re.compile(r"<(p|br|li|pre|blockquote)\b", re.IGNORECASE)


def render_text(text: str | None) -> SafeString:
    """Stored text as safe HTML, the one way every page shows a description, message, note,
    summary or work-order text.

    Cleaned again on the way out (a row written by any route, an import or the admin, still can't
    carry a script into a browser); text without block markup keeps its line breaks."""
    cleaned = clean_html(text or "")
    if not _BLOCK_TAGS.search(cleaned):
        cleaned = cleaned.replace("\n", "<br>")
    return mark_safe(cleaned)  # noqa: S308 - nh3 output

"""Portal template helpers: `{% load portal %}`."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from tierline.core.sanitise import clean_html
from tierline.desk.models import REQUESTER_STATUS_WORDS, Status

register = template.Library()


@register.filter
def sanitised(value: str | None) -> SafeString:
    """Stored rich text, cleaned again on the way out.

    Services clean on the way in; cleaning again means a row written by any other route (an
    import, the admin) still can't carry a script into a requester's browser.
    """
    return mark_safe(clean_html(value or ""))  # noqa: S308 - nh3 has just cleaned it


@register.filter
def file_size(value: int | None) -> str:
    """1536 -> “1.5 KB”."""
    size = float(value or 0)
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} MB"


@register.filter
def requester_words(label: str | None) -> str:
    """A desk status label as written in the history (“In progress”) in the requester's words."""
    label = str(label or "")
    for status, words in REQUESTER_STATUS_WORDS.items():
        if str(Status(status).label) == label:
            return str(words)
    return label

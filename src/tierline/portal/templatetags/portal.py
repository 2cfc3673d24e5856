"""Portal template helpers: `{% load portal %}`."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from tierline.core.sanitise import render_text
from tierline.desk.models import REQUESTER_STATUS_WORDS, Status

register = template.Library()


@register.filter
def sanitised(value: str | None) -> SafeString:
    """Stored text as the desk shows it (core.sanitise.render_text): line breaks kept."""
    return render_text(value)


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

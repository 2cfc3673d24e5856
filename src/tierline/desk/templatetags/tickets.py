"""Ticket badges for templates: `{% load tickets %}`, then status_badge, priority_badge, tier_badge."""

from __future__ import annotations

from functools import cache

from django import template
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString

from tierline.desk.choices import REQUESTER_STATUS_WORDS, Priority, Status

register = template.Library()


# A badge depends only on its value and the language: a queue page shows three per row, so each
# is built once per process (the labels are lazy translations, slow to turn into text).
@cache
def _badge(kind: str, value: str | int, language: str | None) -> SafeString:
    if kind == "status":
        return format_html('<span class="badge status-{}">{}</span>', value, Status(value).label)
    if kind == "requester-status":
        label = REQUESTER_STATUS_WORDS[value]
        return format_html('<span class="badge status-{}">{}</span>', value, label)
    if kind == "priority":
        label = Priority(value).label
        return format_html(
            '<span class="badge prio-{}" title="Priority">P{} {}</span>', value, value, label
        )
    return format_html('<span class="badge tier-{}">Tier {}</span>', value, value)


@register.simple_tag
def status_badge(status: str, for_requester: bool = False) -> str:
    kind = "requester-status" if for_requester else "status"
    return _badge(kind, status, translation.get_language())


@register.simple_tag
def priority_badge(priority: int) -> str:
    return _badge("priority", priority, translation.get_language())


@register.simple_tag
def tier_badge(tier: int) -> str:
    return _badge("tier", tier, translation.get_language())

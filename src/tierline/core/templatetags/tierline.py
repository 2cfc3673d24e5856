"""Template helpers every page uses: relative times, durations, query strings."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()


_UNITS = ((365 * 86400, "year"), (30 * 86400, "month"), (7 * 86400, "week"), (86400, "day"),
          (3600, "hour"), (60, "minute"))  # fmt: skip


def relative(value: datetime, now: datetime | None = None) -> str:
    """“3 hours ago”, “in 2 days”, “just now”.

    Written out rather than django.contrib.humanize's naturaltime, which goes through the
    translation catalogue several times per call: a queue page shows dozens of these.
    """
    seconds = int(((now or timezone.now()) - value).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 45:
        return "just now"
    for size, unit in _UNITS:
        if seconds >= size:
            count = seconds // size
            words = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {words}" if future else f"{words} ago"
    return "in a minute" if future else "a minute ago"


@register.simple_tag
def reltime(value: datetime | None) -> str:
    """“3 hours ago”, with the exact local time on hover."""
    if not value:
        return format_html('<span class="muted">—</span>')
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        local.strftime("%a %d %b %Y, %H:%M %Z"),
        relative(value),
    )


@register.filter
def minutes(value: int | None) -> str:
    """90 -> “1 h 30 min”."""
    value = int(value or 0)
    hours, mins = divmod(value, 60)
    if hours and mins:
        return f"{hours} h {mins} min"
    if hours:
        return f"{hours} h"
    return f"{mins} min"


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (sorting, paging links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return "?" + query.urlencode()


@register.simple_tag(takes_context=True)
def panels(context, slot: str, obj=None) -> str:
    """The panels other apps registered for `slot` (core.panels), for this request and object."""
    from tierline.core.panels import render_slot

    return render_slot(slot, context["request"], obj)


@register.filter
def as_html(value: str | None) -> str:
    """Stored text as safe HTML (core.sanitise.render_text): `{{ message.body|as_html }}`."""
    from tierline.core.sanitise import render_text

    return render_text(value)

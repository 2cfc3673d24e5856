"""Template helpers every page uses: badges and relative times."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from tierline.desk.models import REQUESTER_STATUS_WORDS, Priority, Status

register = template.Library()


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
        naturaltime(value),
    )


@register.simple_tag
def status_badge(status: str, for_requester: bool = False) -> str:
    label = REQUESTER_STATUS_WORDS[status] if for_requester else Status(status).label
    return format_html('<span class="badge status-{}">{}</span>', status, label)


@register.simple_tag
def priority_badge(priority: int) -> str:
    return format_html(
        '<span class="badge prio-{}" title="Priority">P{} {}</span>',
        priority,
        priority,
        Priority(priority).label,
    )


@register.simple_tag
def tier_badge(tier: int) -> str:
    return format_html('<span class="badge tier-{}">Tier {}</span>', tier, tier)


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


@register.simple_tag
def select(bound_field) -> str:
    """A form's <select> rendered in Python.

    Django renders each <option> through two widget templates; a filter bar of long selects
    costs tens of milliseconds that way, on the page technicians load most.
    """
    field = bound_field.field
    widget = field.widget
    value = bound_field.value()
    if value is None:
        chosen: set[str] = set()
    elif isinstance(value, list | tuple):
        chosen = {str(v) for v in value}
    else:
        chosen = {str(value)}
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (
                "" if choice_value is None else str(getattr(choice_value, "value", choice_value)),
                mark_safe(" selected")  # noqa: S308 - a constant
                if str(getattr(choice_value, "value", choice_value)) in chosen
                else "",
                label,
            )
            for choice_value, label in field.choices
        ),
    )
    attrs = widget.build_attrs(widget.attrs, {"id": bound_field.id_for_label})
    if getattr(widget, "allow_multiple_selected", False):
        attrs["multiple"] = True
    return format_html(
        '<select name="{}"{}>{}</select>', bound_field.html_name, flatatt(attrs), options
    )

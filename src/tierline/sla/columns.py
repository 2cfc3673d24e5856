"""The SLA countdown in the desk's ticket lists (through core.list_columns): a "Due" column
("due in 35 min", "breached 2 h ago"; colour and words), `sort=sla` (nearest due first, tickets
without a running target last) and `sla=soon|breached|first_contact|reopened` (breaching in the
next hour, breached, resolved at first contact, reopened).

The sort and the due filters read `TicketClock.next_due` (indexed, kept on every save of a clock);
the figures' filters the clock's counts; the cells read the page's clocks in one query."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.html import format_html

from tierline.core.list_columns import ListColumn, register_column
from tierline.sla.models import TicketClock
from tierline.sla.queries import State, TicketTargets, targets_for

TARGET = "desk.ticket"  # desk.filters.TICKET_EXTRAS
SOON = timedelta(hours=1)
CLASSES = {State.AT_RISK: "due-soon", State.BREACHED: "breached", State.PAUSED: "paused"}


def span(delta: timedelta) -> str:
    """A duration in the unit a glance needs: "35 min", "2 h", "3 d"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def countdown_text(targets: TicketTargets, at: datetime) -> str:
    """What the column says of one ticket: words, so the colour is never the only sign."""
    if targets.state is None:
        return ""
    if targets.next_due is not None:
        if targets.next_due <= at:
            return f"breached {span(at - targets.next_due)} ago"
        text = f"due in {span(targets.next_due - at)}"
        return f"breached, next {text}" if targets.state == State.BREACHED else text
    return State.WORDS[targets.state].lower()


def cells(ticket_ids: list[int]) -> dict[int, str]:
    at = timezone.now()
    out = {}
    for pk, targets in targets_for(ticket_ids, at).items():
        text = countdown_text(targets, at)
        if not text:
            out[pk] = format_html('<span class="muted">{}</span>', "no target")
            continue
        out[pk] = format_html(
            '<span class="sla {}" data-sla-state="{}"{}>{}</span>',
            CLASSES.get(targets.state, ""),
            targets.state,
            format_html(' title="{}"', f"{targets.next_due:%Y-%m-%d %H:%M %Z}")
            if targets.next_due
            else "",
            text,
        )
    return out


def sort(descending: bool) -> tuple:
    due = F("sla_clock__next_due")
    if descending:
        return (due.desc(nulls_last=True), "-pk")
    return (due.asc(nulls_last=True), "pk")


# The figures' filters: resolved at first contact, or reopened (the clock's kept counts).
FIRST_CONTACT = Q(resolved_at__isnull=False, reopen_count=0, desk_replies__lte=1)
FIGURES = {"first_contact": FIRST_CONTACT, "reopened": Q(reopen_count__gt=0)}


def filter_tickets(queryset: QuerySet, value: str) -> QuerySet:
    at = timezone.now()
    if value in FIGURES:
        clocks = TicketClock.objects.filter(FIGURES[value]).values("ticket_id")
        return queryset.filter(pk__in=clocks)
    if value == "soon":
        clocks = TicketClock.objects.filter(next_due__gt=at, next_due__lte=at + SOON)
        return queryset.filter(pk__in=clocks.values("ticket_id"))
    overdue = TicketClock.objects.filter(next_due__lte=at).values("ticket_id")
    missed = TicketClock.objects.filter(breached=True).values("ticket_id")
    return queryset.filter(Q(pk__in=overdue) | Q(pk__in=missed))


COLUMN = ListColumn(
    name="sla",
    header="Due",
    cells=cells,
    sort=sort,
    sort_label="Next due",
    filter=filter_tickets,
    filter_label="Service target",
    filter_choices=(
        ("soon", "Breaching in the next hour"),
        ("breached", "Breached"),
        ("first_contact", "Resolved at first contact"),
        ("reopened", "Reopened"),
    ),
)

register_column(TARGET, COLUMN)

"""The countdown on the ticket page (slot `desk.ticket.side`, declared by desk/panels.py) and
the link to the on-call page in the workspace sidebar (`desk.sidebar`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from tierline.core.panels import panels_for, register_panel
from tierline.sla.models import ClockStatus, TicketClock
from tierline.sla.queries import State, clock_of, targets_of

COUNTDOWN = "sla.countdown"
# The classes app.css gives a due time (.sla.due-soon, .sla.breached, .sla.paused).
STATE_CLASSES = {State.AT_RISK: "due-soon", State.BREACHED: "breached", State.PAUSED: "paused"}


@dataclass(frozen=True)
class Row:
    label: str
    due: datetime
    done_at: datetime | None  # met (answered, resolved) at
    running: bool

    @property
    def overdue(self) -> bool:
        return self.done_at is None and self.running and self.due <= timezone.now()

    @property
    def late(self) -> bool:
        return self.done_at is not None and self.done_at > self.due


def _rows(clock: TicketClock) -> list[Row]:
    running = clock.status == ClockStatus.RUNNING
    rows = []
    if clock.first_response_due is not None:
        rows.append(
            Row("First response", clock.first_response_due, clock.first_response_at, running)
        )
    if clock.next_response_since is not None and clock.next_response_due is not None:
        rows.append(Row("Next response", clock.next_response_due, None, running))
    if clock.resolution_due is not None:
        rows.append(Row("Resolution", clock.resolution_due, clock.resolved_at, running))
    return rows


def _context(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    clock = clock_of(ticket.pk)
    targets = targets_of(clock)
    return {
        "targets": targets,
        "rows": _rows(clock) if targets.state else [],
        "state_words": State.WORDS.get(targets.state or "", ""),
        "state_class": STATE_CLASSES.get(targets.state or "", ""),
        "zone": clock.calendar.zone if clock and clock.calendar else "UTC",
    }


def _render(request: HttpRequest, ticket: Any) -> SafeString:
    """The countdown, or nothing at all for a ticket without targets."""
    html = render_to_string(
        "sla/_countdown.html", {"object": ticket, **_context(request, ticket)}, request=request
    )
    return mark_safe(html.strip())  # noqa: S308 (a template's output, autoescaped)


def _for_the_desk(request: HttpRequest, ticket: Any) -> bool:
    return bool(getattr(request.user, "is_staff_member", False))


if not any(p.name == COUNTDOWN for p in panels_for("desk.ticket.side")):
    register_panel(
        "desk.ticket.side",
        COUNTDOWN,
        render=_render,
        when=_for_the_desk,
        order=10,
    )


SIDEBAR_LINK = "sla.oncall_link"


def _sidebar(request: HttpRequest, user: Any) -> SafeString:
    html = render_to_string("sla/_sidebar_link.html", {}, request=request)
    return mark_safe(html.strip())  # noqa: S308 (a template's output, autoescaped)


if not any(p.name == SIDEBAR_LINK for p in panels_for("desk.sidebar")):
    register_panel(
        "desk.sidebar",
        SIDEBAR_LINK,
        render=_sidebar,
        when=lambda request, user: bool(getattr(request.user, "is_staff_member", False)),
        order=30,
    )

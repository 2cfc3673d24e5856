"""Read-side of service targets: a ticket's state and due times, for pages, panels and the API."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from tierline.sla.models import ClockStatus, TicketClock


class State:
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"

    WORDS = {
        ON_TRACK: "On track",
        AT_RISK: "At risk",
        BREACHED: "Breached",
        PAUSED: "Paused",
        MET: "Met",
    }
    ALL = (ON_TRACK, AT_RISK, BREACHED, PAUSED, MET)


def _running_targets(clock: TicketClock) -> list[tuple[datetime | None, datetime | None]]:
    """(due, at risk from) of each target still running."""
    return clock.running_dues()


def has_targets(clock: TicketClock | None) -> bool:
    return clock is not None and any(
        minutes is not None
        for minutes in (
            clock.first_response_minutes,
            clock.resolution_minutes,
            clock.next_response_minutes,
        )
    )


def state_of(clock: TicketClock | None, at: datetime | None = None) -> str | None:
    """on_track, at_risk, breached, paused (waiting on someone: the clock is stopped) or met
    (resolved, no target missed); None when the ticket has no target. Computed from the stored
    times, so it is right to the second, whatever the sweep has recorded yet."""
    if not has_targets(clock):
        return None
    at = at or timezone.now()
    running = clock.status == ClockStatus.RUNNING
    targets = _running_targets(clock)
    if clock.breached or (running and any(due is not None and due <= at for due, _ in targets)):
        return State.BREACHED
    if clock.status == ClockStatus.PAUSED:
        return State.PAUSED
    if clock.status == ClockStatus.STOPPED:
        return State.MET if clock.resolved_at is not None else None
    if any(risk is not None and risk <= at for _, risk in targets):
        return State.AT_RISK
    return State.ON_TRACK


@dataclass(frozen=True)
class TicketTargets:
    """What the API and the pages show of one ticket's targets."""

    state: str | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    next_due: datetime | None  # the nearest due time of a running target (the countdown)
    clock: TicketClock | None


def targets_of(clock: TicketClock | None, at: datetime | None = None) -> TicketTargets:
    if not has_targets(clock):
        return TicketTargets(None, None, None, None, clock)
    return TicketTargets(
        state=state_of(clock, at),
        first_response_due=clock.first_response_due,
        resolution_due=clock.resolution_due,
        next_due=clock.compute_next_due(),
        clock=clock,
    )


def targets_for(ticket_ids: Iterable[int], at: datetime | None = None) -> dict[int, TicketTargets]:
    """The targets of many tickets in one query (a list page, the API's list)."""
    ids = list(ticket_ids)
    at = at or timezone.now()
    clocks = {c.ticket_id: c for c in TicketClock.objects.filter(ticket_id__in=ids)}
    return {pk: targets_of(clocks.get(pk), at) for pk in ids}


def clock_of(ticket_id: int) -> TicketClock | None:
    return (
        TicketClock.objects.select_related("policy", "calendar").filter(ticket_id=ticket_id).first()
    )


DUE_SOON_LIMIT = 100


def due_soon(
    ticket_ids_visible, *, within_minutes: int, at: datetime | None = None
) -> list[TicketTargets]:
    """The running targets due within `within_minutes` (or overdue), nearest first, at most
    DUE_SOON_LIMIT, among the tickets `ticket_ids_visible(ids)` keeps ("breaching in the next
    hour"). Read from the indexed due times: each arm of the OR is one index range."""
    at = at or timezone.now()
    until = at + timedelta(minutes=within_minutes)
    running = TicketClock.objects.filter(status=ClockStatus.RUNNING)
    first = running.filter(
        first_response_due__lte=until,
        first_response_at__isnull=True,
        first_response_minutes__isnull=False,
    )
    resolution = running.filter(
        resolution_due__lte=until, resolved_at__isnull=True, resolution_minutes__isnull=False
    )
    candidates: dict[int, TicketClock] = {}
    for rows in (first.order_by("first_response_due"), resolution.order_by("resolution_due")):
        for clock in rows[: DUE_SOON_LIMIT * 2]:
            candidates.setdefault(clock.ticket_id, clock)
    visible = set(ticket_ids_visible(list(candidates)))
    found = [targets_of(c, at) for pk, c in candidates.items() if pk in visible]
    found = [t for t in found if t.next_due is not None and t.next_due <= until]
    found.sort(key=lambda t: (t.next_due, t.clock.ticket_id))
    return found[:DUE_SOON_LIMIT]

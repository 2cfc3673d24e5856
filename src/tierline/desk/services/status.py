"""The one path every status change takes: one UPDATE, one history entry, one event."""

from __future__ import annotations

from collections.abc import Iterable

from tierline.core import events
from tierline.core.history import record
from tierline.desk.events import StatusChanged
from tierline.desk.models import Status, Ticket
from tierline.desk.services.saving import save_versioned
from tierline.people.models import User

# Which status may follow which when set directly. Resolving goes through resolve(), closing
# through confirm_resolution() or the auto-close job, reopening through reopen().
TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {
        Status.OPEN,
        Status.IN_PROGRESS,
        Status.WAITING_REQUESTER,
        Status.WAITING_THIRD_PARTY,
    },
    Status.OPEN: {Status.IN_PROGRESS, Status.WAITING_REQUESTER, Status.WAITING_THIRD_PARTY},
    Status.IN_PROGRESS: {Status.OPEN, Status.WAITING_REQUESTER, Status.WAITING_THIRD_PARTY},
    Status.WAITING_REQUESTER: {Status.OPEN, Status.IN_PROGRESS, Status.WAITING_THIRD_PARTY},
    Status.WAITING_THIRD_PARTY: {Status.OPEN, Status.IN_PROGRESS, Status.WAITING_REQUESTER},
    Status.RESOLVED: set(),
    Status.CLOSED: set(),
}


def set_status(
    ticket: Ticket,
    *,
    by: User | None,
    status: str,
    fields: Iterable[str] = (),
    action: str = "status",
    summary: str = "",
    expected_version: int | None = None,
) -> bool:
    """Save `fields` of `ticket` together with a move to `status`; True if the status changed.

    When it changes, the status goes into the same versioned UPDATE as `fields`, exactly one
    history entry (field "status", `action` naming why: "status", "resolved", "closed"...)
    is written and one StatusChanged is published. When it is already `status`, only `fields`
    are saved (if any). Callers check who may do it and which moves are allowed; this writes.
    """
    old = ticket.status
    fields = list(fields)
    if old == status:
        if fields:
            save_versioned(ticket, fields, expected_version=expected_version)
        return False
    ticket.status = status
    save_versioned(ticket, [*fields, "status"], expected_version=expected_version)
    record(
        ticket,
        by,
        action,
        field="status",
        old=Status(old).label,
        new=Status(status).label,
        summary=summary,
    )
    events.publish(
        StatusChanged(
            ticket_id=ticket.pk,
            actor_id=by.pk if by is not None else None,
            old_status=str(old),
            new_status=str(status),
        )
    )
    return True

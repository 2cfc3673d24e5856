"""The one versioned save of the desk's rows (tickets and work orders): optimistic locking."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models import F
from django.utils import timezone

from tierline.core.errors import StaleEdit
from tierline.desk.models import OPEN_STATUSES, Ticket


def _derived(row: models.Model) -> dict[str, object]:
    """Columns stored for an index but derived from others: written with every save."""
    if isinstance(row, Ticket):
        row.is_open = row.status in OPEN_STATUSES
        return {"is_open": row.is_open}
    return {}


def save_versioned(
    row: models.Model, fields: Iterable[str], *, expected_version: int | None = None
) -> None:
    """Write `fields` of `row` (and `updated_at`) in one UPDATE and bump its version.

    Refuses with StaleEdit when someone else saved since `expected_version` (a form's loaded
    version), or since this instance was read when none is given. Nothing is overwritten
    silently.
    """
    row.updated_at = timezone.now()
    values = {name: getattr(row, name) for name in {*fields, "updated_at"}}
    values.update(_derived(row))
    version = row.version if expected_version is None else expected_version
    changed = (
        type(row)
        ._default_manager.filter(pk=row.pk, version=version)
        .update(version=F("version") + 1, **values)
    )
    if not changed:
        raise StaleEdit()
    row.version = version + 1


# --- appending is not editing ---------------------------------------------------------------
# A reply, a note, a call or a file adds to a ticket; it doesn't edit what someone else may be
# editing. So an append never checks a version: it locks the ticket's row (SELECT ... FOR
# UPDATE), acts on the row as it is now, and adds its time with F(), without a version bump. An
# edit (status, priority, team, assignee, fields) carries the version its page was loaded with
# and is refused, with the current values, when the row has moved on (ensure_current).


def lock_current(ticket: Ticket) -> Ticket:
    """Re-read `ticket` under a row lock, into the same instance: what every append acts on.

    Held to the end of the caller's transaction, so two appends on one ticket take turns and a
    status move an append implies (New -> Open, Waiting -> Open) starts from the current row.
    """
    ticket.refresh_from_db(from_queryset=Ticket.objects.select_for_update())
    return ticket


def append_to_ticket(ticket: Ticket, *, minutes: int = 0, **values: object) -> None:
    """Add `minutes` to the ticket's time spent and write `values` (first_response_at, say) in
    one UPDATE with F(): no read-modify-write, no version check, no version bump. Call it
    after lock_current, so the instance's sum stays the stored one."""
    now = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(
        time_spent_minutes=F("time_spent_minutes") + minutes, updated_at=now, **values
    )
    # The caller holds the row lock (lock_current), so the sum in memory is the stored one.
    ticket.time_spent_minutes += minutes
    ticket.updated_at = now
    for name, value in values.items():
        setattr(ticket, name, value)


def current_values(ticket: Ticket) -> dict[str, object]:
    """What a stale page is shown (and the API's 409 sends): the ticket's values now."""
    return {
        "version": ticket.version,
        "status": ticket.status,
        "priority": ticket.priority,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "team": ticket.team_id,
        "team_name": ticket.team.name if ticket.team_id else None,
        "assignee": ticket.assignee.username if ticket.assignee_id else None,
        "assignee_name": str(ticket.assignee) if ticket.assignee_id else None,
        "subject": ticket.subject,
        "category": ticket.category_id,
    }


def ensure_current(ticket: Ticket, expected_version: int | None) -> None:
    """Lock the ticket's row and refuse an edit made from a page older than it.

    `expected_version` is the version the form (or the API client) read; None means "no page"
    (a job, a button acting on the ticket as it is). Refuses with StaleEdit carrying the
    current values; nothing is written.
    """
    lock_current(ticket)
    if expected_version is not None and expected_version != ticket.version:
        raise StaleEdit(
            "Someone else changed this ticket after you loaded it, so your change was not "
            "saved. Check its current values, then apply your change again if it still applies.",
            current=current_values(ticket),
        )

"""The call log: a phone call solved on the line, opening a ticket, or added to one."""

from __future__ import annotations

import math
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tierline.core import events
from tierline.core.history import record
from tierline.core.inputs import DATE_RANGE_MESSAGE, date_in_range
from tierline.desk import permissions as perms
from tierline.desk.events import CallLogged
from tierline.desk.models import Call, Channel, Status, Ticket
from tierline.desk.services.common import optional_text, raise_if
from tierline.desk.services.saving import append_to_ticket, lock_current
from tierline.desk.services.tickets import assign, open_ticket
from tierline.people.models import User


@transaction.atomic
def log_call(
    *,
    by: User,
    outcome: str,
    caller: User | None = None,
    caller_name: str = "",
    caller_phone: str = "",
    started_at: datetime | None = None,
    duration_seconds: int = 0,
    notes: str = "",
    direction: str = Call.Direction.INBOUND,
    ticket: Ticket | None = None,
    subject: str = "",
) -> Call:
    """Log a phone call. Outcome: solved on the call, a new ticket, or added to a ticket."""
    perms.ensure(perms.is_staff_member(by), "Only the help desk logs calls.")
    errors: dict[str, str] = {}
    if outcome not in Call.Outcome.values:
        errors["outcome"] = "Choose what came of the call."
    if direction not in Call.Direction.values:
        errors["direction"] = "Inbound or outbound?"
    if not isinstance(duration_seconds, int) or not 0 <= duration_seconds <= 24 * 3600:
        errors["duration_seconds"] = "Talk time must be between 0 seconds and 24 hours."
    if started_at is not None and not date_in_range(started_at.date()):
        errors["started_at"] = DATE_RANGE_MESSAGE
    notes = optional_text(errors, "notes", notes, max_length=20000, label="Notes")
    caller_name = optional_text(
        errors,
        "caller_name",
        caller_name,
        max_length=120,
        label="The caller's name",
        multiline=False,
    ) or (str(caller)[:120] if caller else "")
    caller_phone = optional_text(
        errors,
        "caller_phone",
        caller_phone,
        max_length=40,
        label="The caller's phone",
        multiline=False,
    ) or (caller.phone[:40] if caller else "")
    if not caller_name and not caller_phone:
        errors["caller"] = "Who called? Pick a person or type a name or number."
    if outcome == Call.Outcome.NEW_TICKET:
        if caller is None:
            errors["caller"] = "A new ticket needs the caller picked from the directory."
        if not (subject or "").strip():
            errors["subject"] = "A new ticket needs a subject."
    if outcome == Call.Outcome.EXISTING_TICKET and ticket is None:
        errors["ticket"] = "Which ticket should the call be added to?"
    raise_if(errors)
    started_at = started_at or timezone.now()
    minutes = math.ceil(duration_seconds / 60)
    if outcome == Call.Outcome.NEW_TICKET:
        ticket = open_ticket(
            requester=caller,
            by=by,
            subject=subject,
            description=notes or subject,
            channel=Channel.PHONE,
        )
        if perms.can_work_ticket(by, ticket) and ticket.assignee_id is None:
            assign(ticket=ticket, by=by, assignee=by)
    elif ticket is not None:
        lock_current(ticket)  # a call adds to the ticket as it is now: never a stale refusal
        perms.ensure(perms.can_log_call(by, ticket), "You can't log a call on this ticket.")
        if ticket.status == Status.CLOSED:
            raise ValidationError(
                {"ticket": f"{ticket.number} is closed: open a new ticket instead."}
            )
    call = Call.objects.create(
        caller=caller,
        caller_name=caller_name,
        caller_phone=caller_phone,
        technician=by,
        direction=direction,
        started_at=started_at,
        duration_seconds=duration_seconds,
        notes=notes,
        outcome=outcome,
        ticket=ticket,
    )
    record(call, by, "logged", summary=Call.Outcome(outcome).label)
    if ticket is not None:
        append_to_ticket(ticket, minutes=minutes)
        record(ticket, by, "call", summary=f"{caller_name or caller_phone}, {minutes} min")
    events.publish(
        CallLogged(
            actor_id=by.pk,
            call_id=call.pk,
            ticket_id=ticket.pk if ticket is not None else None,
            outcome=outcome,
            duration_seconds=duration_seconds,
        )
    )
    return call

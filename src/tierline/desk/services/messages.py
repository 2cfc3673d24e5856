"""Public replies and internal notes."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from tierline.core import events
from tierline.core.errors import ActionRefused
from tierline.core.history import record
from tierline.desk import permissions as perms
from tierline.desk.events import MessageAdded
from tierline.desk.models import Channel, Message, Status, Ticket
from tierline.desk.services.attachments import attach
from tierline.desk.services.common import raise_if, require_text
from tierline.desk.services.saving import append_to_ticket, lock_current
from tierline.desk.services.status import set_status
from tierline.people.models import User


def publish_message_added(message: Message, *, first_response: bool = False) -> None:
    events.publish(
        MessageAdded(
            ticket_id=message.ticket_id,
            actor_id=message.author_id,
            message_id=message.pk,
            internal=message.internal,
            first_response=first_response,
        )
    )


@transaction.atomic
def add_message(
    *,
    ticket: Ticket,
    by: User,
    body: str,
    internal: bool = False,
    time_spent_minutes: int = 0,
    channel: str = Channel.PORTAL,
    uploads: Sequence[UploadedFile] = (),
) -> Message:
    """A public reply (the requester sees it) or an internal note (only the desk does).

    The desk's first public reply marks the first response and opens a new ticket; the
    requester's answer to "waiting on you" opens it again. Appending is not editing: it never
    fails because someone else changed the ticket; it acts on the row as it is now (locked).
    """
    lock_current(ticket)
    staff = perms.can_work_ticket(by, ticket)
    if internal:
        perms.ensure(
            perms.can_note_ticket(by, ticket), "Only the help desk can write internal notes."
        )
    else:
        perms.ensure(
            perms.can_reply_ticket(by, ticket),
            "Only the help desk working this ticket replies to its requester.",
        )
    if ticket.status == Status.CLOSED:
        raise ActionRefused(
            "This ticket is closed. Reopen it, or open a new request if it's a new problem."
        )
    errors: dict[str, str] = {}
    body = require_text(errors, "body", body, max_length=50000, label="Message")
    if not isinstance(time_spent_minutes, int) or not 0 <= time_spent_minutes <= 24 * 60:
        errors["time_spent_minutes"] = "Time spent must be between 0 and 1440 minutes."
    if time_spent_minutes and not (staff or internal):
        errors["time_spent_minutes"] = "Only the help desk records time spent."
    raise_if(errors)

    message = Message.objects.create(
        ticket=ticket,
        author=by,
        body=body,
        internal=internal,
        channel=channel,
        time_spent_minutes=time_spent_minutes,
    )
    attach(ticket, by, uploads, message=message)
    values = {}
    status = ticket.status
    first_response = False
    if staff and not internal and by.pk != ticket.requester_id:
        if ticket.first_response_at is None:
            values["first_response_at"] = message.created_at
            first_response = True
        if ticket.status == Status.NEW:
            status = Status.OPEN
    elif not staff and not internal and ticket.status == Status.WAITING_REQUESTER:
        status = Status.OPEN
    append_to_ticket(ticket, minutes=time_spent_minutes, **values)
    set_status(ticket, by=by, status=status)
    record(
        ticket,
        by,
        "noted" if internal else "replied",
        summary=f"{time_spent_minutes} min" if time_spent_minutes else "",
    )
    publish_message_added(message, first_response=first_response)
    return message

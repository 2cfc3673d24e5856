"""Tickets and other tickets: merged duplicates, related links, child tickets."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tierline.core import events
from tierline.core.history import record
from tierline.desk import permissions as perms
from tierline.desk.events import Merged
from tierline.desk.models import Message, Status, Ticket
from tierline.desk.services.common import ensure_not_finished, ensure_workable
from tierline.desk.services.lifecycle import close_ticket
from tierline.desk.services.messages import publish_message_added
from tierline.desk.services.tickets import open_ticket
from tierline.people.models import Team, User


@transaction.atomic
def merge(*, ticket: Ticket, into: Ticket, by: User) -> Ticket:
    """Close `ticket` as a duplicate of `into`; its requester can follow `into`."""
    ensure_workable(by, ticket)
    perms.ensure(perms.can_work_ticket(by, into), "You can't work the ticket you are merging into.")
    if ticket.pk == into.pk:
        raise ValidationError({"into": "A ticket can't be merged into itself."})
    if into.merged_into_id or into.status == Status.CLOSED:
        raise ValidationError({"into": f"{into.number} is closed; merge into an open ticket."})
    ensure_not_finished(ticket, "merge")
    ticket.merged_into = into
    close_ticket(
        ticket,
        by=by,
        how="merged",
        action="merged",
        summary=f"into {into.number}",
        fields=["merged_into"],
    )
    if ticket.requester_id != into.requester_id:
        into.shared_with.add(ticket.requester_id)
    message = Message.objects.create(
        ticket=ticket,
        author=by,
        internal=False,
        body=f"This request is handled together with {into.number}; follow it there.",
    )
    record(into, by, "merged in", summary=f"{ticket.number}: {ticket.subject}")
    events.publish(Merged(ticket_id=ticket.pk, actor_id=by.pk, into_ticket_id=into.pk))
    publish_message_added(message)
    return ticket


@transaction.atomic
def link(*, ticket: Ticket, other: Ticket, by: User) -> None:
    ensure_workable(by, ticket)
    perms.ensure(perms.can_read_ticket(by, other))
    if ticket.pk == other.pk:
        raise ValidationError({"other": "A ticket can't be linked to itself."})
    if ticket.related.filter(pk=other.pk).exists():
        return
    ticket.related.add(other)
    record(ticket, by, "linked", field="related", new=other.number)
    record(other, by, "linked", field="related", new=ticket.number)


@transaction.atomic
def unlink(*, ticket: Ticket, other: Ticket, by: User) -> None:
    ensure_workable(by, ticket)
    ticket.related.remove(other)
    record(ticket, by, "unlinked", field="related", old=other.number)
    record(other, by, "unlinked", field="related", old=ticket.number)


@transaction.atomic
def create_child(
    *, parent: Ticket, by: User, subject: str, description: str, team: Team | None = None
) -> Ticket:
    """Split work off into a child ticket; the parent can't be resolved while it is open."""
    ensure_workable(by, parent)
    ensure_not_finished(parent, "split")
    child = open_ticket(
        requester=parent.requester,
        by=by,
        subject=subject,
        description=description,
        category=parent.category,
        impact=parent.impact,
        urgency=parent.urgency,
        channel=parent.channel,
        team=team or parent.team,
        parent=parent,
    )
    record(parent, by, "child added", summary=f"{child.number}: {child.subject}")
    return child

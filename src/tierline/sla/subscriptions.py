"""What the sla app hears of the desk: the clock is kept in the desk's transaction; assignment
and paging are queued after commit."""

from __future__ import annotations

from tierline.core import events
from tierline.desk.events import (
    CategoryChanged,
    MessageAdded,
    PriorityChanged,
    StatusChanged,
    TicketOpened,
    TierMoved,
)
from tierline.sla import rules, services
from tierline.sla.tasks import assign_moved_ticket, route_new_ticket


def on_ticket_opened_routing(event: TicketOpened) -> None:
    route_new_ticket.enqueue(ticket_id=event.ticket_id)


def on_tier_moved_routing(event: TierMoved) -> None:
    assign_moved_ticket.enqueue(ticket_id=event.ticket_id)


def subscribe_all() -> None:
    """Subscribe the clock's handlers (safe to call twice: core.events ignores a repeat)."""
    # In the transaction: the clock row commits, or rolls back, with the ticket's change.
    events.subscribe(TicketOpened, services.on_ticket_opened, when="transaction")
    events.subscribe(StatusChanged, services.on_status_changed, when="transaction")
    events.subscribe(MessageAdded, services.on_message_added, when="transaction")
    events.subscribe(PriorityChanged, services.on_retarget, when="transaction")
    events.subscribe(TierMoved, services.on_retarget, when="transaction")
    events.subscribe(CategoryChanged, services.on_retarget, when="transaction")
    # After commit: a task with ids (auto-assignment, pages to who is on call).
    events.subscribe(TicketOpened, on_ticket_opened_routing, when="commit")
    events.subscribe(TierMoved, on_tier_moved_routing, when="commit")
    # Rules: noted in the transaction (one task per ticket, queued when it commits).
    rules.subscribe()

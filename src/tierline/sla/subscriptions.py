"""What the sla app hears of the desk: the clock is kept in the desk's transaction."""

from __future__ import annotations

from tierline.core import events
from tierline.desk.events import (
    MessageAdded,
    PriorityChanged,
    StatusChanged,
    TicketOpened,
    TierMoved,
)
from tierline.sla import services


def subscribe_all() -> None:
    """Subscribe the clock's handlers (safe to call twice: core.events ignores a repeat)."""
    # In the transaction: the clock row commits, or rolls back, with the ticket's change.
    events.subscribe(TicketOpened, services.on_ticket_opened, when="transaction")
    events.subscribe(StatusChanged, services.on_status_changed, when="transaction")
    events.subscribe(MessageAdded, services.on_message_added, when="transaction")
    events.subscribe(PriorityChanged, services.on_retarget, when="transaction")
    events.subscribe(TierMoved, services.on_retarget, when="transaction")

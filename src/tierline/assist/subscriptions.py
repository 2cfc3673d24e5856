"""What the assist app hears of the desk: a new ticket is triaged after it commits."""

from __future__ import annotations

from tierline.assist.tasks import triage_ticket
from tierline.core import events
from tierline.desk.events import TicketOpened


def on_ticket_opened(event: TicketOpened) -> None:
    triage_ticket.enqueue(ticket_id=event.ticket_id, opened_category_id=event.category_id)


def subscribe_all() -> None:
    """Subscribe the handlers (safe to call twice: core.events ignores a repeat)."""
    events.subscribe(TicketOpened, on_ticket_opened, when="commit")

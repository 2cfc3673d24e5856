"""What the assist app hears of the desk: a new ticket is triaged, and compared with its
requester's open tickets and the last minutes' tickets, after it commits."""

from __future__ import annotations

from tierline.assist.tasks import find_duplicates, triage_ticket
from tierline.core import events
from tierline.desk.events import TicketOpened


def on_ticket_opened(event: TicketOpened) -> None:
    triage_ticket.enqueue(ticket_id=event.ticket_id, opened_category_id=event.category_id)


def compare_new_ticket(event: TicketOpened) -> None:
    # A handler of its own: a failure here retries this, never the triage.
    find_duplicates.enqueue(ticket_id=event.ticket_id)


def subscribe_all() -> None:
    """Subscribe the handlers (safe to call twice: core.events ignores a repeat)."""
    events.subscribe(TicketOpened, on_ticket_opened, when="commit")
    events.subscribe(TicketOpened, compare_new_ticket, when="commit")

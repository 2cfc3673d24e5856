"""The index follows the desk: after each commit, the ticket (and a new reply or note) is
indexed again by a task. Any ticket event re-indexes its ticket (status, team, merge,
subject: cheap, one document), so the index never needs to know which fields an event
changed. Registered from KnowledgeConfig.ready, with the lists' text filter (core.search).
"""

from __future__ import annotations

from tierline.core import events, search
from tierline.desk.events import MessageAdded, TicketEvent
from tierline.knowledge.search import queries, tasks


def reindex_ticket(event: TicketEvent) -> None:
    tasks.index_ticket.enqueue(ticket_id=event.ticket_id)


def index_message(event: MessageAdded) -> None:
    tasks.index_message.enqueue(message_id=event.message_id)


def subscribe_all() -> None:
    events.subscribe(TicketEvent, reindex_ticket)
    events.subscribe(MessageAdded, index_message)
    search.register_ticket_text_filter(queries.ticket_text_filter)
    search.register_text_correction(queries.corrected_text)

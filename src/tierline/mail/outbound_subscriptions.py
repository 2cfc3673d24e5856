"""The desk's events that mail the requester, subscribed after commit: each only enqueues
`outbound_tasks.mail_for_desk_event` with ids; what is sent is composed in outbound_events.py
when the task runs."""

from __future__ import annotations

from tierline.core import events
from tierline.desk.events import MessageAdded, Resolved, TicketOpened
from tierline.mail import outbound
from tierline.mail.outbound_tasks import mail_for_desk_event


def _enqueue(kind: str, ticket_id: int, message_id: int | None = None) -> None:
    if not outbound.enabled():
        return
    mail_for_desk_event.enqueue(kind=kind, ticket_id=ticket_id, message_id=message_id)


def on_ticket_opened(event: TicketOpened) -> None:
    _enqueue("acknowledgement", event.ticket_id)


def on_message_added(event: MessageAdded) -> None:
    if not event.internal:
        _enqueue("reply", event.ticket_id, event.message_id)


def on_resolved(event: Resolved) -> None:
    _enqueue("resolved", event.ticket_id)


def subscribe_all() -> None:
    """Subscribe the handlers (safe to call twice: core.events ignores a repeat)."""
    events.subscribe(TicketOpened, on_ticket_opened)
    events.subscribe(MessageAdded, on_message_added)
    events.subscribe(Resolved, on_resolved)

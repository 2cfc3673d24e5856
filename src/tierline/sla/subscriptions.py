"""What the sla app hears of the desk: the clock is kept in the desk's transaction; assignment
and paging are queued after commit; the tickets a transaction changed are noted for the rules
(sla/rules.py), one `run_ticket_rules` task per ticket queued when it commits."""

from __future__ import annotations

import logging

from django.db import transaction

from tierline.core import events
from tierline.desk.events import (
    CategoryChanged,
    MessageAdded,
    PriorityChanged,
    StatusChanged,
    TicketEvent,
    TicketOpened,
    TierMoved,
)
from tierline.people.services import system_user
from tierline.sla import services
from tierline.sla.models import Rule, RuleTrigger
from tierline.sla.tasks import assign_moved_ticket, route_new_ticket, run_ticket_rules

logger = logging.getLogger(__name__)


def on_ticket_opened_routing(event: TicketOpened) -> None:
    route_new_ticket.enqueue(ticket_id=event.ticket_id)


def on_tier_moved_routing(event: TierMoved) -> None:
    assign_moved_ticket.enqueue(ticket_id=event.ticket_id)


# --- rules: hearing the desk ---------------------------------------------------------------

_PENDING_ATTR = "_tierline_rules_pending"


def _enqueue(ticket_id: int, trigger: str) -> None:
    run_ticket_rules.enqueue(ticket_id=ticket_id, trigger=trigger)


def on_ticket_event(event: TicketEvent) -> None:
    """In the desk's transaction: note the ticket (created wins over updated); one task per
    ticket is queued when it commits. The engine's own changes (its actor, the sla user) are
    not updates."""
    created = isinstance(event, TicketOpened)
    trigger = RuleTrigger.CREATED if created else RuleTrigger.UPDATED
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        if created or event.actor_id is None or event.actor_id != system_user("sla").pk:
            _enqueue(event.ticket_id, trigger)
        return
    # One flush per transaction: a new one when the last has run, or was dropped with a
    # rolled-back transaction or savepoint (its hook is no longer queued).
    batch: _Batch | None = getattr(connection, _PENDING_ATTR, None)
    if (
        batch is None
        or batch.flushed
        or not any(hook[1] == batch.flush for hook in connection.run_on_commit)
    ):
        batch = _Batch()
        setattr(connection, _PENDING_ATTR, batch)
        transaction.on_commit(batch.flush)
    if not created and event.actor_id is not None and event.actor_id == batch.engine_id():
        return
    if batch.tickets.get(event.ticket_id) != RuleTrigger.CREATED:
        batch.tickets[event.ticket_id] = trigger


class _Batch:
    """The tickets one transaction changed, and the trigger each gets (created wins)."""

    def __init__(self) -> None:
        self.tickets: dict[int, str] = {}
        self.flushed = False
        self._engine_id: int | None = None

    def engine_id(self) -> int:
        """The sla user's id, read once per transaction."""
        if self._engine_id is None:
            self._engine_id = system_user("sla").pk
        return self._engine_id

    def flush(self) -> None:
        self.flushed = True
        if not self.tickets:
            return
        # No task for a trigger no active rule has (most changes, on most desks). Runs after
        # commit, from the request: it logs, never raises (the change is committed).
        try:
            wanted = set(
                Rule.objects.filter(is_active=True, trigger__in=set(self.tickets.values()))
                .order_by()
                .values_list("trigger", flat=True)
                .distinct()
            )
        except Exception:
            logger.exception("Rules of tickets %s could not be queued", list(self.tickets))
            return
        for ticket_id, trigger in self.tickets.items():
            if trigger not in wanted:
                continue
            try:
                _enqueue(ticket_id, trigger)
            except Exception:  # the change is committed; one ticket's rules are lost, logged
                logger.exception("Rules of ticket %s could not be queued", ticket_id)


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
    events.subscribe(TicketEvent, on_ticket_event, when="transaction")

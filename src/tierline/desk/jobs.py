"""The desk's periodic jobs, registered when Django starts (DeskConfig.ready imports this)."""

from __future__ import annotations

from tierline.core.scheduler import every, register
from tierline.desk.tasks import close_resolved_tickets


def enqueue_close_resolved_tickets() -> object:
    # Enqueued, not called: with TIERLINE_TASKS=database the worker runs it; the immediate
    # backend runs it right here.
    return close_resolved_tickets.enqueue()


CLOSE_RESOLVED_TICKETS = register(
    "close-resolved-tickets", schedule=every(minutes=60), run=enqueue_close_resolved_tickets
)

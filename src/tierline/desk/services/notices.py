"""History entries written on a ticket by another app, about the ticket, without changing it
(a service target at risk or breached): the entry names its actor, as every entry does."""

from __future__ import annotations

from django.db import transaction

from tierline.core import events
from tierline.core.history import record
from tierline.desk.events import TicketViewed
from tierline.desk.models import Ticket
from tierline.people.models import User


@transaction.atomic
def record_on_ticket(*, ticket_id: int, by: User, action: str, summary: str = "") -> None:
    """Append one history entry ("marked breached · first response was due 10:30") to a ticket.

    The ticket's row is not locked or changed: a notice is not an edit, so it never makes a
    technician's open form stale."""
    if not action or len(action) > 40:
        raise ValueError("A history action is 1 to 40 characters.")
    ticket = Ticket.objects.only("pk").get(pk=ticket_id)
    record(ticket, by, action, summary=summary[:500])


def ticket_viewed(*, ticket_id: int, by: User) -> None:
    """`by` opened the ticket's page: tell whoever listens (the mail app reads its notices).

    Writes nothing itself. Listeners subscribe with when="transaction" (they run at once: there
    is no transaction to wait for) and must not raise: the page is shown whatever they do."""
    events.publish(TicketViewed(actor_id=by.pk, ticket_id=ticket_id))

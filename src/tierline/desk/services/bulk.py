"""One action over many tickets: each on its own, one refusal does not stop the others."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from tierline.desk import permissions as perms
from tierline.desk.models import Ticket
from tierline.desk.services.tickets import assign, change_status
from tierline.people.models import User


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def _bulk(tickets: Iterable[Ticket], action: Callable[[Ticket], object]) -> BulkResult:
    result = BulkResult()
    for ticket in tickets:
        try:
            action(ticket)
        except (ValidationError, perms.PermissionDenied) as exc:
            messages = getattr(exc, "messages", None) or [str(exc)]
            result.refused[ticket.number] = " ".join(messages)
        else:
            result.done.append(ticket.number)
    return result


def bulk_assign(*, tickets: Iterable[Ticket], by: User, assignee: User | None) -> BulkResult:
    """Assign each ticket on its own; one refused ticket does not stop the others."""
    return _bulk(tickets, lambda t: assign(ticket=t, by=by, assignee=assignee))


def bulk_change_status(*, tickets: Iterable[Ticket], by: User, status: str) -> BulkResult:
    return _bulk(tickets, lambda t: change_status(ticket=t, by=by, status=status))

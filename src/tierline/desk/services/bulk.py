"""One action over many tickets, as the queue showed them.

The queue's form carries each row's version. If any ticked ticket changed after the queue was
loaded, nothing is done: the whole action is refused and each stale ticket is named with its
current values (`BulkResult.stale`). Otherwise each ticket is acted on in turn, and a ticket
the rules refuse (not yours to work, already closed) is named and skipped, the others done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from tierline.desk import permissions as perms
from tierline.desk.models import Ticket
from tierline.desk.services.saving import current_values
from tierline.desk.services.tickets import assign, change_status
from tierline.people.models import User


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    # number -> the ticket's values now (saving.current_values), when the action was refused
    # because these tickets changed after the page was loaded. Then `done` is empty.
    stale: dict[str, dict[str, object]] = field(default_factory=dict)


def _stale(tickets: list[Ticket], versions: Mapping[int, int]) -> dict[str, dict[str, object]]:
    """Lock the tickets' rows (in id order, so two bulk actions can't deadlock) and return those
    whose version is not the one their page showed."""
    checked = [t.pk for t in tickets if versions.get(t.pk) is not None]
    if not checked:
        return {}
    now = dict(
        Ticket.objects.select_for_update()
        .filter(pk__in=checked)
        .order_by("pk")
        .values_list("pk", "version")
    )
    stale: dict[str, dict[str, object]] = {}
    for ticket in tickets:
        if ticket.pk in now and now[ticket.pk] != versions.get(ticket.pk, now[ticket.pk]):
            ticket.refresh_from_db()
            stale[ticket.number] = current_values(ticket)
    return stale


def _bulk(
    tickets: Iterable[Ticket],
    versions: Mapping[int, int] | None,
    action: Callable[[Ticket, int | None], object],
) -> BulkResult:
    tickets = list(tickets)
    versions = versions or {}
    result = BulkResult()
    with transaction.atomic():
        result.stale = _stale(tickets, versions)
        if result.stale:
            return result
        for ticket in tickets:
            try:
                action(ticket, versions.get(ticket.pk))
            except (ValidationError, perms.PermissionDenied) as exc:
                messages = getattr(exc, "messages", None) or [str(exc)]
                result.refused[ticket.number] = " ".join(messages)
            else:
                result.done.append(ticket.number)
    return result


def bulk_assign(
    *,
    tickets: Iterable[Ticket],
    by: User,
    assignee: User | None,
    versions: Mapping[int, int] | None = None,
) -> BulkResult:
    """Assign each ticket (`versions`: id -> the version its page showed; a stale one refuses
    the whole action, nothing done); a ticket the rules refuse does not stop the others."""
    return _bulk(
        tickets,
        versions,
        lambda t, v: assign(ticket=t, by=by, assignee=assignee, expected_version=v),
    )


def bulk_change_status(
    *,
    tickets: Iterable[Ticket],
    by: User,
    status: str,
    versions: Mapping[int, int] | None = None,
) -> BulkResult:
    """Move each ticket to `status`, as bulk_assign."""
    return _bulk(
        tickets,
        versions,
        lambda t, v: change_status(ticket=t, by=by, status=status, expected_version=v),
    )

"""One path for every status change: exactly one history entry and one StatusChanged each.

Each case builds a ticket, runs one service and lists the status changes it must make. The
test counts the ticket's history rows with field "status" before and after, and the events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core import events
from tierline.core.models import HistoryEntry
from tierline.desk import services
from tierline.desk.events import StatusChanged
from tierline.desk.models import OPEN_STATUSES, Call, Status, Ticket
from tierline.desk.services.status import set_status

pytestmark = pytest.mark.django_db

NEW, OPEN, IN_PROGRESS = Status.NEW, Status.OPEN, Status.IN_PROGRESS
WAITING, RESOLVED, CLOSED = Status.WAITING_REQUESTER, Status.RESOLVED, Status.CLOSED


@dataclass
class Desk:
    employee: object
    tier1: object
    tier2: object


def new_ticket(desk: Desk) -> Ticket:
    return desk_factories.ticket(desk.employee)


def open_ticket(desk: Desk) -> Ticket:
    ticket = new_ticket(desk)
    services.take(ticket=ticket, by=desk.tier1)
    return ticket


def waiting_ticket(desk: Desk) -> Ticket:
    ticket = open_ticket(desk)
    services.change_status(ticket=ticket, by=desk.tier1, status=WAITING)
    return ticket


def resolved_ticket(desk: Desk) -> Ticket:
    ticket = open_ticket(desk)
    services.resolve(ticket=ticket, by=desk.tier1, resolution_code="fixed", body="Done.")
    return ticket


def closed_ticket(desk: Desk) -> Ticket:
    ticket = resolved_ticket(desk)
    services.confirm_resolution(ticket=ticket, by=desk.employee)
    return ticket


def new_tier2_ticket(desk: Desk) -> Ticket:
    return desk_factories.ticket(desk.employee, team=people_factories.team(2))


def long_resolved(desk: Desk) -> Ticket:
    ticket = resolved_ticket(desk)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=60))
    return ticket


@dataclass
class Case:
    given: Callable[[Desk], Ticket]
    when: Callable[[Desk, Ticket], object]
    changes: list[tuple[str, str]]


CASES: dict[str, Case] = {
    "change_status": Case(
        new_ticket,
        lambda d, t: services.change_status(ticket=t, by=d.tier1, status=IN_PROGRESS),
        [(NEW, IN_PROGRESS)],
    ),
    "change_status to the same status": Case(
        open_ticket,
        lambda d, t: services.change_status(ticket=t, by=d.tier1, status=OPEN),
        [],
    ),
    "assign opens a new ticket": Case(
        new_ticket, lambda d, t: services.take(ticket=t, by=d.tier1), [(NEW, OPEN)]
    ),
    "assign on an open ticket": Case(
        waiting_ticket, lambda d, t: services.assign(ticket=t, by=d.tier1, assignee=None), []
    ),
    "first public reply opens a new ticket": Case(
        new_ticket,
        lambda d, t: services.add_message(ticket=t, by=d.tier1, body="On it."),
        [(NEW, OPEN)],
    ),
    "internal note leaves it new": Case(
        new_ticket,
        lambda d, t: services.add_message(ticket=t, by=d.tier1, body="Hm.", internal=True),
        [],
    ),
    "requester's answer reopens a waiting ticket": Case(
        waiting_ticket,
        lambda d, t: services.add_message(ticket=t, by=d.employee, body="Log attached."),
        [(WAITING, OPEN)],
    ),
    "escalating a new ticket opens it": Case(
        new_ticket,
        lambda d, t: services.escalate(ticket=t, by=d.tier1, summary="Needs Tier 2."),
        [(NEW, OPEN)],
    ),
    "escalating a waiting ticket keeps its status": Case(
        waiting_ticket,
        lambda d, t: services.escalate(ticket=t, by=d.tier1, summary="Needs Tier 2."),
        [],
    ),
    "de-escalating a new ticket opens it": Case(
        new_tier2_ticket,
        lambda d, t: services.de_escalate(ticket=t, by=d.tier2, summary="A Tier 1 job."),
        [(NEW, OPEN)],
    ),
    "resolve": Case(
        open_ticket,
        lambda d, t: services.resolve(ticket=t, by=d.tier1, resolution_code="fixed", body="Ok"),
        [(OPEN, RESOLVED)],
    ),
    "resolve a new ticket (its note is the first reply)": Case(
        new_ticket,
        lambda d, t: services.resolve(ticket=t, by=d.tier1, resolution_code="fixed", body="Ok"),
        [(NEW, OPEN), (OPEN, RESOLVED)],
    ),
    "confirm": Case(
        resolved_ticket,
        lambda d, t: services.confirm_resolution(ticket=t, by=d.employee),
        [(RESOLVED, CLOSED)],
    ),
    "reopen a resolved ticket": Case(
        resolved_ticket,
        lambda d, t: services.reopen(ticket=t, by=d.employee, reason="Again."),
        [(RESOLVED, OPEN)],
    ),
    "reopen a closed ticket": Case(
        closed_ticket,
        lambda d, t: services.reopen(ticket=t, by=d.tier1, reason="Again."),
        [(CLOSED, OPEN)],
    ),
    "close": Case(
        resolved_ticket,
        lambda d, t: services.close(ticket=t, by=d.tier1, reason="Done."),
        [(RESOLVED, CLOSED)],
    ),
    "the auto-close job": Case(
        long_resolved, lambda d, t: services.close_resolved_tickets(), [(RESOLVED, CLOSED)]
    ),
    "merge": Case(
        open_ticket,
        lambda d, t: services.merge(ticket=t, into=desk_factories.ticket(d.employee), by=d.tier1),
        [(OPEN, CLOSED)],
    ),
    "mark spam": Case(
        new_ticket, lambda d, t: services.mark_spam(ticket=t, by=d.tier1), [(NEW, CLOSED)]
    ),
    "mark spam on a closed ticket": Case(
        closed_ticket, lambda d, t: services.mark_spam(ticket=t, by=d.tier1), []
    ),
    "a call added to the ticket": Case(
        new_ticket,
        lambda d, t: services.log_call(
            by=d.tier1, outcome=Call.Outcome.EXISTING_TICKET, caller=d.employee, ticket=t
        ),
        [],
    ),
    "changing impact": Case(
        new_ticket, lambda d, t: services.change_fields(ticket=t, by=d.tier1, impact=1), []
    ),
}


def status_entries(ticket: Ticket) -> list[tuple[str, str]]:
    return list(
        HistoryEntry.objects.filter(object_id=ticket.pk, field="status")
        .filter(content_type__model="ticket")
        .order_by("pk")
        .values_list("old_value", "new_value")
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_every_status_change_writes_one_entry_and_one_event(case, employee, tier1, tier2):
    # given
    desk = Desk(employee, tier1, tier2)
    ticket = case.given(desk)
    ticket.refresh_from_db()
    before = status_entries(ticket)
    # when
    with events.capture_events() as published:
        case.when(desk, ticket)
    # then: one history entry per change, old -> new, in order
    added = status_entries(ticket)[len(before) :]
    assert added == [(Status(old).label, Status(new).label) for old, new in case.changes]
    # and one StatusChanged per change, for this ticket
    assert [
        (e.ticket_id, e.old_status, e.new_status) for e in published if isinstance(e, StatusChanged)
    ] == [(ticket.pk, old, new) for old, new in case.changes]
    # and the stored row agrees with its trail
    ticket.refresh_from_db()
    if case.changes:
        assert ticket.status == case.changes[-1][1]
    assert ticket.is_open == (ticket.status in OPEN_STATUSES)


def test_a_call_that_opens_a_ticket_writes_one_entry_for_its_opening(employee, tier1):
    # when
    with events.capture_events() as published:
        call = services.log_call(
            by=tier1, outcome=Call.Outcome.NEW_TICKET, caller=employee, subject="No dial tone"
        )
    # then
    ticket = Ticket.objects.get(pk=call.ticket_id)
    assert status_entries(ticket) == [(Status.NEW.label, Status.OPEN.label)]
    assert [type(e) for e in published].count(StatusChanged) == 1


def test_set_status_saves_other_fields_in_the_same_write(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    ticket.subject = "Printer on floor 3 jams"
    # when: no status change, only the field
    changed = set_status(ticket, by=tier1, status=Status.NEW, fields=["subject"])
    # then
    stored = Ticket.objects.get(pk=ticket.pk)
    assert not changed and stored.subject == "Printer on floor 3 jams" and stored.version == 2
    assert status_entries(ticket) == []
    # when: the status changes with a field: one UPDATE, one version step
    ticket.subject = "Printer on floor 4 jams"
    assert set_status(ticket, by=tier1, status=Status.OPEN, fields=["subject"])
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.subject, stored.status, stored.version) == (
        "Printer on floor 4 jams",
        Status.OPEN,
        3,
    )

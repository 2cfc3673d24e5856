"""Nothing lost under concurrency (issue 8, point 2): appending is not editing.

Regressions of: 3 of 6 simultaneous replies refused with "someone else changed this record", a
requester's portal reply refused while a technician changed the status, and time spent read,
added to and written back (two writers, one sum lost). Each thread has its own connection and
its own copy of the ticket, read before they all start: the copies are stale by design.
"""

from __future__ import annotations

import pytest
from django.db import connection

from tests.concurrency import run_together
from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.errors import StaleEdit
from tierline.core.history import history_of
from tierline.desk import services
from tierline.desk.models import Call, Message, Status, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _real_concurrency():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "SQLite's in-memory test database raises 'table is locked' for concurrent "
            "threads; these run on PostgreSQL."
        )


def stale_copy(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("team", "assignee").get(pk=ticket.pk)


def test_six_simultaneous_replies_are_all_kept_and_their_time_adds_up(tier1):
    # given: six technicians of the ticket's team, each with the page loaded
    team = tier1.teams.first()
    technicians = [tier1] + [people_factories.technician(1) for _ in range(5)]
    for tech in technicians[1:]:
        tech.teams.set([team])
    ticket = desk_factories.ticket()
    copies = [stale_copy(ticket) for _ in technicians]

    # when: all six reply at once, 7 minutes each
    errors = run_together(
        *[
            lambda tech=tech, copy=copy: services.add_message(
                ticket=copy, by=tech, body=f"Reply from {tech.username}", time_spent_minutes=7
            )
            for tech, copy in zip(technicians, copies, strict=True)
        ]
    )

    # then: none refused, all six kept, 42 minutes, opened once, first response once
    assert not errors, errors
    assert Message.objects.filter(ticket=ticket).count() == 6
    ticket.refresh_from_db()
    assert ticket.time_spent_minutes == 6 * 7
    assert ticket.status == Status.OPEN
    assert ticket.first_response_at is not None
    assert history_of(ticket).filter(field="status").count() == 1


def test_a_portal_reply_while_a_technician_changes_the_status_is_kept(tier1):
    # given: a ticket waiting on its requester; both pages loaded
    ticket = desk_factories.ticket()
    services.change_status(ticket=ticket, by=tier1, status=Status.WAITING_REQUESTER)
    requester_copy, technician_copy = stale_copy(ticket), stale_copy(ticket)
    loaded_version = technician_copy.version
    refused: list[StaleEdit] = []

    def technician_moves_it() -> None:
        try:
            services.change_status(
                ticket=technician_copy,
                by=tier1,
                status=Status.IN_PROGRESS,
                expected_version=loaded_version,
            )
        except StaleEdit as exc:  # the reply opened the ticket first: shown, not overwritten
            refused.append(exc)

    # when: the requester answers while the technician moves it to "In progress"
    errors = run_together(
        lambda: services.add_message(
            ticket=requester_copy, by=ticket.requester, body="Yes, it's the blue cable."
        ),
        technician_moves_it,
    )

    # then: the reply is kept whatever the order; the status is whoever moved it last, and the
    # history says so
    assert not errors, errors
    assert Message.objects.filter(ticket=ticket, body="Yes, it's the blue cable.").exists()
    ticket.refresh_from_db()
    last_move = history_of(ticket).filter(field="status").order_by("-pk").first()
    assert last_move.new_value == Status(ticket.status).label
    if refused:  # the reply came first: Waiting -> Open, and the technician saw it
        assert ticket.status == Status.OPEN
        assert refused[0].current["status"] == Status.OPEN
    else:  # the move came first: the reply adds to "In progress" and leaves it there
        assert ticket.status == Status.IN_PROGRESS


def test_a_reply_on_a_page_older_than_a_status_change_is_kept(tier1):
    # given: the requester loaded the ticket; then the technician changed its status
    ticket = desk_factories.ticket()
    services.change_status(ticket=ticket, by=tier1, status=Status.WAITING_REQUESTER)
    requester_copy = stale_copy(ticket)
    services.change_status(ticket=stale_copy(ticket), by=tier1, status=Status.IN_PROGRESS)

    # when
    services.add_message(ticket=requester_copy, by=ticket.requester, body="Still broken.")

    # then: kept, and the move it implies starts from the current row (not "Waiting")
    ticket.refresh_from_db()
    assert ticket.messages.filter(body="Still broken.").exists()
    assert ticket.status == Status.IN_PROGRESS


def test_time_spent_adds_up_across_simultaneous_replies_notes_and_calls(tier1, tier2):
    # given: a ticket in progress (so no reply moves it), every page loaded
    ticket = desk_factories.ticket()
    services.change_status(ticket=ticket, by=tier1, status=Status.IN_PROGRESS)
    copies = [stale_copy(ticket) for _ in range(6)]

    # when: replies, notes (from another tier), calls and a status change, all at once
    errors = run_together(
        lambda: services.add_message(ticket=copies[0], by=tier1, body="a", time_spent_minutes=5),
        lambda: services.add_message(ticket=copies[1], by=tier1, body="b", time_spent_minutes=10),
        lambda: services.add_message(
            ticket=copies[2], by=tier2, body="c", internal=True, time_spent_minutes=15
        ),
        lambda: services.log_call(
            by=tier1,
            outcome=Call.Outcome.EXISTING_TICKET,
            ticket=copies[3],
            caller=ticket.requester,
            duration_seconds=20 * 60,
        ),
        lambda: services.log_call(
            by=tier2,
            outcome=Call.Outcome.EXISTING_TICKET,
            ticket=copies[4],
            caller=ticket.requester,
            duration_seconds=25 * 60,
        ),
        lambda: services.change_status(
            ticket=copies[5],
            by=tier1,
            status=Status.WAITING_THIRD_PARTY,
            expected_version=copies[5].version,
        ),
    )

    # then: every minute counted, and the status change (an edit) went through too: appends
    # don't make a page stale
    assert not errors, errors
    ticket.refresh_from_db()
    assert ticket.time_spent_minutes == 5 + 10 + 15 + 20 + 25
    assert Call.objects.filter(ticket=ticket).count() == 2
    assert ticket.status == Status.WAITING_THIRD_PARTY


def test_an_append_does_not_make_a_colleagues_open_form_stale(tier1):
    # given: a technician's page, loaded before a colleague's note and the requester's file
    ticket = desk_factories.ticket()
    services.change_status(ticket=ticket, by=tier1, status=Status.IN_PROGRESS)
    page = stale_copy(ticket)
    services.add_message(ticket=stale_copy(ticket), by=tier1, body="Note.", internal=True)
    services.log_call(
        by=tier1,
        outcome=Call.Outcome.EXISTING_TICKET,
        ticket=stale_copy(ticket),
        caller=ticket.requester,
        duration_seconds=60,
    )

    # when: the page's status change is submitted
    services.change_status(
        ticket=page, by=tier1, status=Status.WAITING_REQUESTER, expected_version=page.version
    )

    # then: appends are not edits, so nothing the page showed had changed
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_REQUESTER

"""Figures per ticket (issue 10 point 9): first response and resolution time, on the calendar and
in business time, reopen count, first contact resolution and breaches; in the API and the
queue's filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.desk import factories as desk_factories
from tests.sla import factories
from tests.sla.test_services import Clock
from tierline.desk import services as desk_services
from tierline.desk.choices import Priority, Status
from tierline.sla.models import TicketClock

pytestmark = pytest.mark.django_db

# Friday 5 June 2026, 16:30 in London (BST): half an hour before the desk closes for the weekend.
FRIDAY_1630 = datetime(2026, 6, 5, 15, 30, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch, FRIDAY_1630)


def figures(ticket) -> TicketClock:
    return TicketClock.objects.get(ticket=ticket)


def test_first_response_counts_calendar_and_business_time(clock, employee, tier1):
    # given: the 09:00-17:00 London desk; a ticket at 16:30 on Friday
    factories.policy(on=factories.calendar())
    ticket = desk_factories.ticket(employee, created_at=FRIDAY_1630)
    # when: answered on Monday at 09:15
    clock.now = datetime(2026, 6, 8, 8, 15, tzinfo=UTC)
    desk_services.add_message(ticket=ticket, by=tier1, body="Looking at it now.")
    # then: 2 days 16 h 45 min on the calendar, 45 minutes of business time
    row = figures(ticket)
    assert row.first_response_seconds == int(
        timedelta(days=2, hours=16, minutes=45).total_seconds()
    )
    assert row.first_response_business_seconds == 45 * 60
    # an internal note and the requester's own reply are not answers
    assert row.desk_replies == 1


def test_resolution_business_time_leaves_out_waiting_on_the_requester(clock, employee, tier1):
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, 480)})
    start = clock.now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    ticket = desk_factories.ticket(employee, created_at=start)
    clock.advance(hours=1)
    desk_services.add_message(ticket=ticket, by=tier1, body="Which printer?")
    desk_services.change_status(ticket=ticket, by=tier1, status=Status.WAITING_REQUESTER)
    clock.advance(hours=5)  # waiting: not counted
    ticket.refresh_from_db()
    desk_services.add_message(ticket=ticket, by=employee, body="Floor 2.")
    clock.advance(hours=1)
    ticket.refresh_from_db()
    desk_services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Cleaned it.")
    row = figures(ticket)
    assert row.resolution_seconds == 7 * 3600
    assert row.resolution_business_seconds == 2 * 3600
    assert row.first_contact_resolution is False  # two answers from the desk


def test_first_contact_resolution_and_reopens(clock, api, employee, tier1):
    factories.policy(on=factories.always_open())
    once = desk_factories.ticket(employee, subject="Solved at once", created_at=clock.now)
    clock.advance(minutes=20)
    desk_services.resolve(ticket=once, by=tier1, resolution_code="fixed", body="Reset it.")
    again = desk_factories.ticket(employee, subject="Came back")
    clock.advance(minutes=20)
    desk_services.resolve(ticket=again, by=tier1, resolution_code="fixed", body="Reset it.")
    clock.advance(days=1)
    again.refresh_from_db()
    desk_services.reopen(ticket=again, by=employee, reason="Broken again.")
    still_open = desk_factories.ticket(employee, subject="Open")
    assert figures(once).first_contact_resolution is True
    assert figures(again).reopen_count == 1
    assert figures(again).first_contact_resolution is None  # open again: no figure yet
    assert figures(again).resolution_seconds is None
    assert figures(still_open).first_contact_resolution is None
    # the API carries them
    body = api(tier1).get(f"/api/v1/tickets/{once.number}/").json()
    assert body["first_contact_resolution"] is True
    assert body["reopen_count"] == 0 and body["breached"] is False
    assert body["resolution_seconds"] == 20 * 60
    # and the queue's filters find them
    client = api(tier1)
    first_contact = client.get("/api/v1/tickets/", {"sla": "first_contact"}).json()
    reopened = client.get("/api/v1/tickets/", {"sla": "reopened"}).json()
    assert [t["number"] for t in first_contact["results"]] == [once.number]
    assert [t["number"] for t in reopened["results"]] == [again.number]


def test_a_requester_reads_no_figures(api, employee):
    factories.policy(on=factories.always_open())
    ticket = desk_factories.ticket(employee)
    body = api(employee).get(f"/api/v1/tickets/{ticket.number}/").json()
    assert "first_contact_resolution" not in body and "reopen_count" not in body


def test_the_queue_filters_reopened_tickets(client, lead, tier1, employee, clock):
    factories.policy(on=factories.always_open())
    ticket = desk_factories.ticket(employee, subject="Came <back> & again", created_at=clock.now)
    desk_services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Done.")
    ticket.refresh_from_db()
    desk_services.reopen(ticket=ticket, by=employee, reason="Not fixed.")
    desk_factories.ticket(employee, subject="Never closed", created_at=clock.now)
    client.force_login(lead)
    page = client.get("/desk/", {"queue": "all", "sla": "reopened"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Resolved at first contact" in text and ">Reopened</option>" in text
    assert "Came &lt;back&gt; &amp; again" in text
    assert "Never closed" not in text

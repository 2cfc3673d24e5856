"""The SLA column of the queue (core.list_columns): countdown, sort by next due, filters."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.sla import factories
from tierline.core import list_columns
from tierline.desk import services as desk_services
from tierline.desk.choices import Level, Priority, Status
from tierline.sla import columns
from tierline.sla.models import TicketClock

pytestmark = pytest.mark.django_db


def queue(user, **params) -> tuple[str, int]:
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("desk:queue"), {"queue": "all", **params})
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def numbers(html: str) -> list[str]:
    return re.findall(r'<td class="ref"><a href="[^"]+"[^>]*>([^<]+)</a>', html)


@pytest.fixture
def tickets(employee):
    """Due in 30 min, breached 2 h ago, due in 5 h, and one without a policy (other priority)."""
    factories.policy(
        on=factories.always_open(),
        targets={Priority.MEDIUM: (None, None, 6 * 60), Priority.HIGH: (None, None, 60)},
    )
    now = timezone.now()
    soon = desk_factories.ticket(
        employee, urgency=Level.HIGH, created_at=now - timedelta(minutes=30)
    )
    late = desk_factories.ticket(employee, urgency=Level.HIGH, created_at=now - timedelta(hours=3))
    later = desk_factories.ticket(employee, created_at=now - timedelta(hours=1))
    bare = desk_factories.ticket(employee, urgency=Level.LOW)
    assert (soon.priority, later.priority) == (Priority.HIGH, Priority.MEDIUM)
    assert bare.priority not in (Priority.HIGH, Priority.MEDIUM)
    return soon, late, later, bare


def test_the_column_says_due_in_and_breached_ago_in_words(lead, tickets):
    soon, late, later, bare = tickets
    html, _ = queue(lead)
    assert ">Due</a></th>" in html
    assert re.search(r'data-sla-state="on_track" title="[^"]+">due in (29|30) min<', html)
    assert re.search(r'class="sla breached" data-sla-state="breached"[^>]*>breached 2 h ago<', html)
    assert re.search(r">due in (4|5) h<", html)
    assert ">no target<" in html  # the ticket without a policy


def test_sorted_by_next_due_nearest_first_without_target_last(lead, tickets):
    soon, late, later, bare = tickets
    html, _ = queue(lead, sort="sla")
    assert numbers(html) == [late.number, soon.number, later.number, bare.number]
    assert 'aria-sort="ascending"' in html
    html, _ = queue(lead, sort="-sla")
    assert numbers(html) == [later.number, soon.number, late.number, bare.number]


def test_filters_breaching_in_the_next_hour_and_breached(lead, tickets):
    soon, late, later, bare = tickets
    html, _ = queue(lead, sla="soon")
    assert numbers(html) == [soon.number]
    html, _ = queue(lead, sla="breached")
    assert numbers(html) == [late.number]
    assert '<option value="breached" selected>Breached</option>' in html


def test_a_paused_ticket_has_no_next_due_and_sorts_last(lead, tier1, tickets):
    soon, late, later, bare = tickets
    desk_services.change_status(ticket=later, by=lead, status=Status.WAITING_REQUESTER)
    assert TicketClock.objects.get(ticket=later).next_due is None
    html, _ = queue(lead, sort="sla")
    assert numbers(html)[:2] == [late.number, soon.number]
    assert ">paused<" in html


def test_an_unknown_filter_value_is_ignored_on_the_page_and_refused_by_the_api(lead, tickets, api):
    html, _ = queue(lead, sla="<b>nope</b>")
    assert len(numbers(html)) == 4
    response = api(lead).get("/api/v1/tickets/", {"sla": "nope"})
    assert response.status_code == 400
    assert "sla" in response.content.decode()


def test_the_api_list_sorts_by_next_due(lead, tickets, api):
    soon, late, later, bare = tickets
    response = api(lead).get("/api/v1/tickets/", {"sort": "sla"})
    assert response.status_code == 200
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [row["number"] for row in rows][:3] == [late.number, soon.number, later.number]


def test_the_column_costs_one_query_per_page(lead, tickets, employee):
    for _ in range(5):
        desk_factories.ticket(employee, urgency=Level.HIGH)
    _, with_column = queue(lead)
    list_columns.unregister_column(columns.TARGET, columns.COLUMN.name)
    try:
        _, without = queue(lead)
    finally:
        list_columns.register_column(columns.TARGET, columns.COLUMN)
    assert with_column == without + 1


def test_a_failing_column_leaves_its_cells_empty_not_the_page(lead, tickets, monkeypatch):
    def broken(ids):
        raise RuntimeError("boom")

    list_columns.register_column(
        columns.TARGET, list_columns.ListColumn(name="broken", header="Broken", cells=broken)
    )
    try:
        html, _ = queue(lead)
    finally:
        list_columns.unregister_column(columns.TARGET, "broken")
    assert '<th scope="col">Broken</th>' in html
    assert len(numbers(html)) == 4


def test_next_due_follows_the_clock(employee, tier1):
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, 480)})
    ticket = desk_factories.ticket(employee)
    clock = TicketClock.objects.get(ticket=ticket)
    assert clock.next_due == clock.first_response_due
    desk_services.add_message(ticket=ticket, by=tier1, body="On it.")
    clock.refresh_from_db()
    assert clock.first_response_at is not None
    assert clock.next_due == clock.resolution_due

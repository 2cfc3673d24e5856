"""The ticket API carries sla_state, first_response_due and resolution_due (through the
core.api_extras seam: the desk does not import sla)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.generators import SchemaGenerator

from tests.core.test_schema_contract import check
from tests.desk import factories as desk_factories
from tests.sla import factories
from tierline.core import api_extras
from tierline.desk.choices import Priority
from tierline.sla.models import TicketClock

pytestmark = pytest.mark.django_db

SLA_FIELDS = {"sla_state", "first_response_due", "resolution_due"}


def test_a_ticket_answer_carries_its_state_and_due_times(api, employee, tier1):
    # given
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, 480)})
    ticket = desk_factories.ticket(employee)
    # when
    body = api(tier1).get(f"/api/v1/tickets/{ticket.number}/").json()
    # then: ISO 8601, the stored due times
    clock = TicketClock.objects.get(ticket=ticket)
    assert body["sla_state"] == "on_track"
    assert parse_datetime(body["first_response_due"]) == clock.first_response_due
    assert parse_datetime(body["resolution_due"]) == clock.resolution_due
    assert body["first_response_due"].endswith("Z")


def test_a_breached_ticket_says_so(api, employee, tier1):
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, None)})
    ticket = desk_factories.ticket(employee, created_at=timezone.now() - timedelta(hours=2))
    body = api(tier1).get(f"/api/v1/tickets/{ticket.number}/").json()
    assert body["sla_state"] == "breached"
    assert body["resolution_due"] is None  # no resolution target: null


def test_without_a_policy_the_fields_are_null(api, employee, tier1):
    ticket = desk_factories.ticket(employee)
    body = api(tier1).get(f"/api/v1/tickets/{ticket.number}/").json()
    assert {name: body[name] for name in SLA_FIELDS} == dict.fromkeys(SLA_FIELDS)


def test_a_requester_reads_no_service_targets(api, employee):
    factories.policy(on=factories.always_open())
    ticket = desk_factories.ticket(employee)
    body = api(employee).get(f"/api/v1/tickets/{ticket.number}/").json()
    assert not SLA_FIELDS & set(body)


def test_the_list_asks_for_the_targets_of_a_page_once(api, employee, tier1):
    # given
    factories.policy(on=factories.always_open())
    for _ in range(3):
        desk_factories.ticket(employee)
    client = api(tier1)
    client.get("/api/v1/tickets/")  # warm caches (token, content types)
    with CaptureQueriesContext(connection) as three:
        first = client.get("/api/v1/tickets/").json()
    for _ in range(5):
        desk_factories.ticket(employee)
    with CaptureQueriesContext(connection) as eight:
        second = client.get("/api/v1/tickets/").json()
    # then: every row has its fields, and the query count does not grow with the page
    assert all(row["sla_state"] == "on_track" for row in second["results"])
    assert len(first["results"]) == 3 and len(second["results"]) == 8
    assert len(eight.captured_queries) == len(three.captured_queries)
    assert sum("sla_ticketclock" in q["sql"] for q in eight.captured_queries) == 1


def test_a_failing_app_leaves_its_fields_null_and_the_answer_whole(api, employee, tier1):
    # given: an app whose values raise
    def broken(ids):
        raise RuntimeError("down")

    extras = api_extras._registry["desk.ticket"]["sla"]
    api_extras.register_extra_fields("desk.ticket", "sla", fields=extras.fields, values=broken)
    try:
        factories.policy(on=factories.always_open())
        ticket = desk_factories.ticket(employee)
        response = api(tier1).get(f"/api/v1/tickets/{ticket.number}/")
    finally:
        api_extras.register_extra_fields(
            "desk.ticket", "sla", fields=extras.fields, values=extras.values
        )
    assert response.status_code == 200
    assert response.json()["sla_state"] is None
    assert response.json()["number"] == ticket.number


def test_the_schema_documents_the_fields_and_a_breached_answer_matches_it(api, employee, tier1):
    # given: the schema, and a ticket with one target breached and one absent (null)
    openapi = SchemaGenerator().get_schema(request=None, public=True)
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, None)})
    ticket = desk_factories.ticket(employee, created_at=timezone.now() - timedelta(hours=2))
    # when
    body = api(tier1).get(f"/api/v1/tickets/{ticket.number}/").json()
    # then
    properties = openapi["components"]["schemas"]["Ticket"]["properties"]
    assert set(properties) >= SLA_FIELDS
    assert properties["sla_state"]["nullable"] is True
    assert properties["resolution_due"]["format"] == "date-time"
    check(openapi, "/api/v1/tickets/{number}/", "get", 200, body)

"""A NUL character in a ticket number or a username answered 500 on PostgreSQL.

PostgreSQL's text cannot hold NUL, so looking a ticket or a person up by a text with one raised
DataError ("PostgreSQL text fields cannot contain NUL (0x00) bytes") where SQLite found nothing.
Found by the schemathesis run on PostgreSQL (tests/api/test_schemathesis.py): a work order
for ticket "&2\\x96\\xaa\\x00K". Typed text was already refused with a message
(core/text.py); references and paths are now refused the same way (core/inputs.py).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk.models import Ticket, WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_tier2(employee):
    return desk_factories.ticket(requester=employee, team=people_factories.team(2))


def visit(ticket: str, technician: str) -> dict:
    start = timezone.now() + timedelta(days=1)
    return {
        "ticket": ticket,
        "technician": technician,
        "scheduled_start": start.isoformat(),
        "scheduled_end": (start + timedelta(hours=1)).isoformat(),
    }


def test_a_work_order_for_a_ticket_number_with_a_nul_is_refused(api, tier2, at_tier2):
    response = api(tier2).post(
        "/api/v1/work-orders/", visit(at_tier2.number + "\x00", tier2.username), format="json"
    )
    assert response.status_code == 400
    assert "ticket" in response.json()
    assert not WorkOrder.objects.exists()


def test_a_ticket_number_with_an_unpaired_surrogate_is_refused(api, tier2, at_tier2):
    # JSON can carry "\ud800", which no database driver can encode (SQLite too).
    body = visit("TL-\\ud800", tier2.username)
    response = api(tier2).post(
        "/api/v1/work-orders/",
        json.dumps(body).replace("\\\\ud800", "\\ud800"),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "ticket" in response.json()


def test_a_technician_named_with_a_nul_is_refused(api, tier2, at_tier2):
    response = api(tier2).post(
        "/api/v1/work-orders/", visit(at_tier2.number, "tier2\x00"), format="json"
    )
    assert response.status_code == 400
    assert "technician" in response.json()
    assert not WorkOrder.objects.exists()


def test_a_requester_or_assignee_named_with_a_nul_is_refused(api, tier1, employee):
    # given
    client = api(tier1)
    ticket = desk_factories.ticket(requester=employee)
    # when
    opened = client.post(
        "/api/v1/tickets/",
        {"subject": "s", "description": "d", "requester": "employee\x00"},
        format="json",
    )
    patched = client.patch(f"/api/v1/tickets/{ticket.number}/", {"assignee": "\x00"}, format="json")
    # then
    assert opened.status_code == 400 and "requester" in opened.json()
    assert patched.status_code == 400 and "assignee" in patched.json()
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/TL-%00/",
        "/api/v1/tickets/%00/history/",
        "/api/v1/tickets/%00/replies/",
        "/api/v1/work-orders/WO-%00/",
        "/api/v1/calls/%00/",
        "/api/v1/people/%00/",
    ],
)
def test_a_path_with_a_nul_is_not_found(api, lead, path):
    response = api(lead).get(path)
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        {"q": "print\x00"},
        {"requester": "\x00"},
        {"assignee": "\x00"},
        {"sort": "\x00"},
        {"queue": "\x00"},
    ],
)
def test_a_ticket_list_filter_with_a_nul_is_refused(api, lead, query):
    response = api(lead).get("/api/v1/tickets/", query)
    assert response.status_code == 400
    assert set(query) <= set(response.json())


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v1/people/", {"q": "\x00"}),
        ("/api/v1/work-orders/", {"ticket": "TL\x00"}),
        ("/api/v1/work-orders/", {"technician": "\x00"}),
        ("/api/v1/calls/", {"ticket": "TL\x00"}),
        ("/api/v1/calls/", {"technician": "\x00"}),
    ],
)
def test_other_list_filters_with_a_nul_are_refused(api, lead, path, query):
    response = api(lead).get(path, query)
    assert response.status_code == 400
    assert set(query) <= set(response.json())

"""API doors that used to answer 500 to ids and dates no database or calendar holds."""

from __future__ import annotations

import pytest

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.inputs import MAX_ID
from tierline.desk.models import Ticket


@pytest.mark.django_db
@pytest.mark.parametrize("value", [str(MAX_ID + 1), "-9223372036854775809", "²"])
def test_api_ticket_list_refuses_a_team_no_database_holds(api, tier1, value):
    response = api(tier1).get("/api/v1/tickets/", {"team": value})
    assert response.status_code == 400
    assert "team" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["²", "1²", "①"])
def test_api_person_fields_refuse_unicode_digits(api, tier1, employee, value):
    # given
    client = api(tier1)
    ticket = desk_factories.ticket(requester=employee)
    # when
    opened = client.post(
        "/api/v1/tickets/",
        {"subject": "s", "description": "d", "requester": value},
        format="json",
    )
    patched = client.patch(f"/api/v1/tickets/{ticket.number}/", {"assignee": value}, format="json")
    # then
    assert opened.status_code == 400 and "requester" in opened.json()
    assert patched.status_code == 400 and "assignee" in patched.json()
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_api_work_order_refuses_a_visit_at_the_calendars_edge(api, tier2, employee):
    # given
    ticket = desk_factories.ticket(requester=employee, team=people_factories.team(2))
    # when
    response = api(tier2).post(
        "/api/v1/work-orders/",
        {
            "ticket": ticket.number,
            "technician": tier2.username,
            "scheduled_start": "9999-12-31T10:00:00Z",
            "scheduled_end": "9999-12-31T11:00:00Z",
        },
        format="json",
    )
    # then
    assert response.status_code == 400
    assert response.json()["scheduled_start"] == ["Choose a date between 1970 and 2999."]

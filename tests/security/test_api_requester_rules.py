"""The API applies the portal's rules to a requester, and answers them only what the portal shows
(issue 8, point 3). One rule, in desk.services.open_ticket, serves the portal and the API."""

from __future__ import annotations

import pytest

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services
from tierline.desk.models import Level, Priority, PriorityRule, ResolutionCode, Ticket

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"
# What only the help desk reads about a ticket: the portal never shows these to a requester.
DESK_FIELDS = {
    "priority",
    "impact",
    "tier",
    "team",
    "team_name",
    "assignee",
    "assignee_name",
    "channel",
    "time_spent_minutes",
    "version",
    "parent",
}


def test_api_requester_cannot_open_a_p1_phone_ticket(api, employee):
    # when a requester asks for the highest impact, by phone, through the API
    response = api(employee).post(
        TICKETS,
        {
            "subject": "Everything is down",
            "description": "Please hurry.",
            "impact": 1,
            "urgency": 1,
            "channel": "phone",
        },
        format="json",
    )
    # then it is refused, field by field, and no ticket is opened
    assert response.status_code == 400
    assert set(response.json()) == {"impact", "channel"}
    assert "help desk" in response.json()["impact"][0]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("channel", ["phone", "walk_in", "agent"])
def test_api_requester_cannot_pick_a_desk_channel(api, employee, channel):
    # when
    response = api(employee).post(
        TICKETS, {"subject": "s", "description": "d", "channel": channel}, format="json"
    )
    # then
    assert response.status_code == 400
    assert list(response.json()) == ["channel"]
    assert not Ticket.objects.exists()


def test_api_requester_ticket_is_capped_at_p2_however_the_matrix_is_set(api, client, employee):
    # given an administrator made medium impact × high urgency a P1
    PriorityRule.objects.filter(impact=Level.MEDIUM, urgency=Level.HIGH).update(
        priority=Priority.CRITICAL
    )
    # when a requester says "it stops me working" through the API and through the portal
    response = api(employee).post(
        TICKETS, {"subject": "API", "description": "d", "urgency": 1}, format="json"
    )
    client.force_login(employee)
    portal = client.post(
        "/portal/new/", {"subject": "Portal", "description": "d", "urgency": Level.HIGH}
    )
    # then both tickets are P2, as the portal always promised
    assert response.status_code == 201 and portal.status_code == 302
    assert set(Ticket.objects.values_list("subject", "priority")) == {
        ("API", Priority.HIGH),
        ("Portal", Priority.HIGH),
    }


def test_the_help_desk_still_opens_a_p1_phone_ticket_for_a_caller(api, tier1, employee):
    # when a technician logs what a caller told them
    response = api(tier1).post(
        TICKETS,
        {
            "subject": "Trading floor offline",
            "description": "Whole floor.",
            "impact": 1,
            "urgency": 1,
            "channel": "phone",
            "requester": "employee",
        },
        format="json",
    )
    # then
    assert response.status_code == 201, response.json()
    assert response.json()["priority"] == Priority.CRITICAL
    assert response.json()["channel"] == "phone"


def test_the_service_refuses_a_requester_choosing_the_team(employee):
    # given
    tier2_team = people_factories.team(2)
    # when / then: the one rule holds for any caller of the service, not only the API
    with pytest.raises(Exception) as refused:
        services.open_ticket(requester=employee, subject="s", description="d", team=tier2_team)
    assert "team" in refused.value.message_dict
    assert not Ticket.objects.exists()


def test_api_hides_team_and_history_from_a_requester(api, employee, tier1):
    # given a ticket the help desk worked: assigned, time logged, escalated with a summary
    ticket = desk_factories.ticket(employee, subject="Laptop slow")
    services.take(ticket=ticket, by=tier1)
    services.add_message(ticket=ticket, by=tier1, body="Looking now.", time_spent_minutes=15)
    services.escalate(ticket=ticket, by=tier1, summary="Tried a restart; disk is failing.")
    client = api(employee)
    # when the requester reads it every way the API offers
    one = client.get(f"{TICKETS}{ticket.number}/").json()
    listed = client.get(TICKETS).json()["results"]
    replies = client.get(f"{TICKETS}{ticket.number}/replies/").json()
    history = client.get(f"{TICKETS}{ticket.number}/history/").json()
    # then none of the desk's fields is in any answer
    assert one["number"] == ticket.number and one["subject"] == "Laptop slow"
    assert not DESK_FIELDS & set(one)
    assert [t["number"] for t in listed] == [ticket.number]
    assert not DESK_FIELDS & set(listed[0])
    assert [r["body"] for r in replies] == ["Looking now."]
    assert not {"time_spent_minutes", "internal", "channel"} & set(replies[0])
    assert history and all(set(e) == {"when", "action", "field", "old", "new"} for e in history)
    assert "disk is failing" not in repr(history)


def test_api_answers_a_requesters_own_actions_in_the_requester_shape(api, employee, tier1):
    # given a resolved ticket
    ticket = desk_factories.ticket(employee)
    services.take(ticket=ticket, by=tier1)
    code = ResolutionCode.objects.filter(is_active=True).first()
    services.resolve(ticket=ticket, by=tier1, resolution_code=code, body="Fixed.")
    client = api(employee)
    # when the requester reopens it and replies
    reopened = client.post(
        f"{TICKETS}{ticket.number}/reopen/", {"reason": "Still slow."}, format="json"
    )
    reply = client.post(f"{TICKETS}{ticket.number}/replies/", {"body": "Thanks"}, format="json")
    # then the answers leave the desk's fields out
    assert reopened.status_code == 200 and reply.status_code == 201
    assert not DESK_FIELDS & set(reopened.json())
    assert not {"time_spent_minutes", "internal", "channel"} & set(reply.json())


def test_api_gives_a_technician_the_requester_shape_of_their_own_restricted_ticket(api, tier1):
    # given tier1 asked HR (a restricted team they are not in) for help
    hr = people_factories.restricted_team(name="HR Systems")
    ticket = desk_factories.ticket(tier1, subject="My payslip", team=hr)
    # when tier1 reads it
    body = api(tier1).get(f"{TICKETS}{ticket.number}/").json()
    # then they read it as its requester, as on the portal
    assert body["number"] == ticket.number
    assert not DESK_FIELDS & set(body)


def test_the_help_desk_reads_every_desk_field(api, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    body = api(tier1).get(f"{TICKETS}{ticket.number}/").json()
    # then
    assert set(body) >= DESK_FIELDS


def test_the_schema_documents_the_desk_fields_as_optional_for_a_generated_client(api, tier1):
    # when
    schema = api(tier1).get("/api/schema/?format=json").json()
    ticket = schema["components"]["schemas"]["Ticket"]
    # then one Ticket model: the desk's fields are there, not required, and say why
    assert set(ticket["properties"]) >= DESK_FIELDS
    assert not DESK_FIELDS & set(ticket["required"])
    assert {"number", "subject", "status"} <= set(ticket["required"])
    team = ticket["properties"]["team"]
    assert "left out of the answer for a requester" in team["description"]
    message = schema["components"]["schemas"]["Message"]
    assert "time_spent_minutes" not in message["required"]

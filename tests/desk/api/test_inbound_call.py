"""When the phone rings: `GET /api/v1/calls/inbound/?phone=` finds the caller by their number in
any format, their open tickets (only those the technician may read) and their devices."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.assets import factories as asset_factories
from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services

pytestmark = pytest.mark.django_db

INBOUND = "/api/v1/calls/inbound/"


@pytest.fixture
def caller(employee):
    employee.phone = "0113 496 0123"
    employee.save()
    return employee


@pytest.mark.parametrize(
    "dialled", ["+44 113 496 0123", "+441134960123", "01134960123", "(0113) 496-0123"]
)
def test_the_caller_is_found_whatever_the_numbers_format(api, tier1, caller, dialled):
    answer = api(tier1).get(INBOUND, {"phone": dialled})
    assert answer.status_code == 200
    body = answer.json()
    assert body["caller"]["username"] == caller.username
    assert [p["username"] for p in body["candidates"]] == [caller.username]
    assert body["phone"] == dialled


def test_their_open_tickets_newest_first_without_resolved_ones(api, tier1, lead, caller):
    older = desk_factories.ticket(caller, subject="VPN drops <every> hour & more")
    newer = desk_factories.ticket(caller, subject="Printer jams")
    done = desk_factories.ticket(caller, subject="Old one")
    services.resolve(ticket=done, by=lead, resolution_code="fixed", body="Fixed.")
    services.add_message(ticket=older, by=tier1, body="Looking at it.")  # updated last
    body = api(tier1).get(INBOUND, {"phone": "+44 113 496 0123"}).json()
    assert [t["number"] for t in body["open_tickets"]] == [older.number, newer.number]
    assert body["open_tickets"][0]["subject"] == "VPN drops <every> hour & more"
    assert body["open_tickets"][0]["url"] == reverse("desk:ticket", args=[older.number])
    assert body["more_tickets"] is False
    assert body["log_call_url"] == reverse("desk:call_new") + "?phone=%2B44+113+496+0123"


def test_the_callers_devices_come_from_the_assets_app(api, tier1, caller):
    asset_factories.asset(tag="LT-0042", hostname="erin-laptop", make="Lenovo", assigned_to=caller)
    asset_factories.asset(tag="PC-9", hostname="someone-else")
    body = api(tier1).get(INBOUND, {"phone": "01134960123"}).json()
    devices = body["caller"]["assets"]
    assert [(d["tag"], d["hostname"], d["make_and_model"]) for d in devices] == [
        ("LT-0042", "erin-laptop", "Lenovo")
    ]


def test_a_shared_number_names_no_caller_but_lists_everyone(api, tier1, caller):
    other = people_factories.UserFactory(username="frank", phone="+44 (0)113 496 0123")
    body = api(tier1).get(INBOUND, {"phone": "0113 496 0123"}).json()
    assert body["caller"] is None
    assert {p["username"] for p in body["candidates"]} == {caller.username, other.username}


def test_an_unknown_number_is_an_empty_answer_not_an_error(api, tier1, caller):
    body = api(tier1).get(INBOUND, {"phone": "+1 555 0100 999"}).json()
    assert body["caller"] is None and body["candidates"] == [] and body["open_tickets"] == []


def test_a_restricted_teams_ticket_is_not_told_to_an_outsider(api, tier1, tier2, caller):
    hr = people_factories.restricted_team(members=[tier2])
    desk_factories.ticket(caller, team=hr, subject="Grievance")
    desk_factories.ticket(caller, subject="Printer")
    outsider = api(tier1).get(INBOUND, {"phone": "01134960123"}).json()
    member = api(tier2).get(INBOUND, {"phone": "01134960123"}).json()
    assert [t["subject"] for t in outsider["open_tickets"]] == ["Printer"]
    assert {t["subject"] for t in member["open_tickets"]} == {"Printer", "Grievance"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "phone"),
        ({"phone": ""}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"phone": "no digits"}, "phone"),
        ({"phone": "1" * 41}, "phone"),
        ({"phone": "0113\x00496"}, "phone"),
    ],
)
def test_a_bad_number_is_a_400_naming_the_field(api, tier1, query, field):
    answer = api(tier1).get(INBOUND, query)
    assert answer.status_code == 400
    assert field in answer.json()


def test_only_the_help_desk_may_ask(api, employee, caller):
    assert api(employee).get(INBOUND, {"phone": "01134960123"}).status_code == 403
    assert api(None).get(INBOUND, {"phone": "01134960123"}).status_code in (401, 403)

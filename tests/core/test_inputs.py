"""Ids and dates read from request text (core.inputs), and the doors that used to 500 on them."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tests.desk import factories as desk_factories
from tierline.core.inputs import MAX_ID, parse_date, parse_id
from tierline.desk.models import Ticket

# "²".isdigit() is True but int("²") raises; 2**63 overflows SQLite's INTEGER.
NOT_IDS = ["", " ", "x", "-1", "0", "1.5", "²", "1²", "①", "\x00", str(MAX_ID + 1), "9" * 40, True]


@pytest.mark.parametrize("value", NOT_IDS)
def test_parse_id_refuses_what_no_database_id_is(value):
    assert parse_id(value) is None


@pytest.mark.parametrize(
    ("value", "expected"), [("1", 1), (" 42 ", 42), (7, 7), (str(MAX_ID), MAX_ID), ("007", 7)]
)
def test_parse_id_reads_ids(value, expected):
    assert parse_id(value) == expected


@pytest.mark.parametrize(
    "value", ["", "2026-13-45", "9999-12-31", "0001-01-01", "1969-12-31", "3000-01-01", None, "²"]
)
def test_parse_date_refuses_junk_and_the_calendars_edges(value):
    assert parse_date(value) is None


def test_parse_date_reads_dates_in_range():
    assert parse_date("2026-11-23") == date(2026, 11, 23)
    assert parse_date(" 1970-01-01 ") == date(1970, 1, 1)
    assert parse_date("2999-12-31") == date(2999, 12, 31)


# --- the doors ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("desk:queue", {"team": str(MAX_ID + 1)}),
        ("desk:queue", {"created_after": "0001-01-01"}),
        ("desk:calls", {"start": "9999-12-31"}),
        ("desk:calls", {"end": "9999-12-31"}),
        ("desk:calls", {"technician": "²"}),
        ("desk:call_report", {"end": "9999-12-31"}),
        ("desk:call_report", {"start": "0001-01-01"}),
        ("desk:work_orders", {"date": "9999-12-31"}),
        ("desk:work_orders", {"technician": "²"}),
        ("desk:escalation_report", {"from": "9999-12-31", "to": "²"}),
    ],
)
def test_workspace_lists_answer_bad_ids_and_dates_without_a_500(client, lead, name, params):
    client.force_login(lead)
    response = client.get(reverse(name), params)
    assert response.status_code in (200, 400)


@pytest.mark.django_db
def test_an_out_of_range_date_filter_is_explained(client, lead):
    client.force_login(lead)
    body = client.get(reverse("desk:calls"), {"start": "9999-12-31"}).content.decode()
    assert "Choose a date between 1970 and 2999." in body


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["x", "desk:queue", "javascript:alert(1)", "//evil.example/"])
def test_bulk_goes_back_only_to_a_path_on_this_site(client, tier1, employee, target):
    # given
    ticket = desk_factories.ticket(requester=employee)
    client.force_login(tier1)
    # when
    response = client.post(
        reverse("desk:bulk"),
        {"action": "assign", "assignee": "me", "ids": [ticket.pk], "next": target},
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:queue")
    assert Ticket.objects.get(pk=ticket.pk).assignee == tier1


@pytest.mark.django_db
@pytest.mark.parametrize("ids", [["²"], [str(MAX_ID + 1)]])
def test_bulk_with_ids_no_ticket_has_says_tick_one(client, tier1, ids):
    client.force_login(tier1)
    response = client.post(
        reverse("desk:bulk"), {"action": "status", "status": "open", "ids": ids}, follow=True
    )
    assert response.status_code == 200
    assert "Tick at least one ticket." in response.content.decode()

"""Calendars and policies in the admin: each mistake is a message on the form, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.sla import factories
from tierline.sla.models import Calendar, Policy

pytestmark = pytest.mark.django_db


def management(prefix: str, rows: list[dict]) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(rows):
        data.update({f"{prefix}-{n}-{name}": value for name, value in row.items()})
    return data


def add_calendar(client: Client, *, hours: list[dict], **fields) -> tuple[int, str]:
    data = {
        "name": "Desk",
        "zone": "Europe/London",
        "holiday_country": "",
        "holiday_subdivision": "",
    }
    data.update(fields)
    data |= management("hours", hours) | management("closures", [])
    response = client.post(reverse("admin:sla_calendar_add"), data)
    return response.status_code, response.content.decode()


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


NINE_TO_FIVE = [{"weekday": str(d), "start": "09:00", "end": "17:00"} for d in range(5)]


def test_a_calendar_with_hours_is_saved(admin_client):
    status, _ = add_calendar(
        admin_client, hours=NINE_TO_FIVE, holiday_country="GB", holiday_subdivision="ENG"
    )
    assert status == 302
    calendar = Calendar.objects.get(name="Desk")
    assert calendar.hours.count() == 5


@pytest.mark.parametrize(
    ("fields", "hours", "message"),
    [
        ({"zone": "Mars/Olympus"}, NINE_TO_FIVE, "Unknown time zone"),
        ({"holiday_country": "XX"}, NINE_TO_FIVE, "not a country the holidays package knows"),
        (
            {"holiday_country": "GB", "holiday_subdivision": "ZZZ"},
            NINE_TO_FIVE,
            "not a region of GB",
        ),
        ({"holiday_subdivision": "ENG"}, NINE_TO_FIVE, "Give a country"),
        (
            {},
            [{"weekday": "0", "start": "17:00", "end": "09:00"}],
            "The end must be after the start",
        ),
        (
            {},
            [
                {"weekday": "0", "start": "09:00", "end": "13:00"},
                {"weekday": "0", "start": "12:00", "end": "17:00"},
            ],
            "Monday: business hours overlap",
        ),
        ({}, [], "open at least one interval a week"),
        ({}, [{"weekday": "9", "start": "09:00", "end": "17:00"}], "Select a valid choice"),
        ({}, [{"weekday": "0", "start": "25:99", "end": "17:00"}], "Enter a valid time"),
    ],
)
def test_bad_calendars_are_refused_with_a_message(admin_client, fields, hours, message):
    # when
    status, html = add_calendar(admin_client, hours=hours, **fields)
    # then: the form again, saying why; nothing saved
    assert status == 200
    assert message in html
    assert not Calendar.objects.filter(name="Desk").exists()


def test_a_policy_with_a_target_without_minutes_is_refused(admin_client):
    calendar = factories.always_open()
    data = {
        "name": "Gold",
        "order": "1",
        "is_active": "on",
        "calendar": str(calendar.pk),
        "at_risk_percent": "75",
    } | management(
        "targets", [{"priority": "1", "first_response_minutes": "", "resolution_minutes": ""}]
    )
    response = admin_client.post(reverse("admin:sla_policy_add"), data)
    assert response.status_code == 200
    assert "Give at least one target" in response.content.decode()
    assert not Policy.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("at_risk_percent", "100", "less than or equal to 99"),
        ("at_risk_percent", "abc", "Enter a whole number"),
        ("order", "-1", "greater than or equal to 0"),
    ],
)
def test_bad_policy_numbers_are_refused(admin_client, field, value, message):
    calendar = factories.always_open()
    data = {
        "name": "Gold",
        "order": "1",
        "calendar": str(calendar.pk),
        "at_risk_percent": "75",
        field: value,
    } | management("targets", [{"priority": "1", "first_response_minutes": "30"}])
    response = admin_client.post(reverse("admin:sla_policy_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_a_policy_and_its_targets_are_saved(admin_client):
    calendar = factories.always_open()
    data = {
        "name": "Gold",
        "order": "1",
        "is_active": "on",
        "calendar": str(calendar.pk),
        "at_risk_percent": "80",
    } | management(
        "targets",
        [
            {"priority": "1", "first_response_minutes": "15", "resolution_minutes": "240"},
            {"priority": "1", "first_response_minutes": "30"},
        ],
    )
    # a second target for the same priority is refused
    response = admin_client.post(reverse("admin:sla_policy_add"), data)
    assert response.status_code == 200
    assert "Please correct the duplicate data" in response.content.decode()
    # one is saved
    data |= management(
        "targets", [{"priority": "1", "first_response_minutes": "15", "resolution_minutes": "240"}]
    )
    response = admin_client.post(reverse("admin:sla_policy_add"), data)
    assert response.status_code == 302
    assert Policy.objects.get(name="Gold").targets.get().resolution_minutes == 240


def test_clocks_are_read_only_in_the_admin(admin_client, employee):
    response = admin_client.get(reverse("admin:sla_ticketclock_changelist"))
    assert response.status_code == 200
    assert admin_client.get(reverse("admin:sla_ticketclock_add")).status_code == 403

"""Assignment settings, shifts and paused intakes in the admin: bad input is a message on the
form, never a 500, and nothing is saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests.people import factories as people_factories
from tests.sla.oncall_factories import shift, technicians
from tierline.sla.models import IntakePause, Shift, TeamRota
from tierline.sla.shifts import repeat_weekly

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def rota_form(team, **fields) -> dict:
    data = {
        "team": str(team.pk),
        "mode": "round_robin",
        "open_ticket_cap": "5",
        "calendar": "",
        "page_priority": "1",
        "page_email": "on",
        "page_webhook_url": "",
        "page_webhook_secret": "",
        "ics_token": "",
    }
    data.update(fields)
    return data


def test_team_settings_are_saved(admin_client):
    team = people_factories.team(1)
    response = admin_client.post(reverse("admin:sla_teamrota_add"), rota_form(team))
    assert response.status_code == 302
    row = TeamRota.objects.get(team=team)
    assert (row.mode, row.open_ticket_cap, row.page_priority) == ("round_robin", 5, 1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"open_ticket_cap": "0"}, "greater than or equal to 1"),
        ({"open_ticket_cap": "-3"}, "greater than or equal to 0"),
        ({"open_ticket_cap": "lots"}, "Enter a whole number"),
        ({"mode": "random"}, "Select a valid choice"),
        ({"page_priority": "9"}, "Select a valid choice"),
        ({"page_webhook_url": "ftp://example.com/x"}, "Enter a valid URL"),
        ({"page_webhook_url": "javascript:alert(1)"}, "Enter a valid URL"),
    ],
)
def test_bad_team_settings_are_refused(admin_client, fields, message):
    team = people_factories.team(1)
    response = admin_client.post(reverse("admin:sla_teamrota_add"), rota_form(team, **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TeamRota.objects.exists()


def shift_form(team, person, start: str, end: str, **fields) -> dict:
    data = {
        "team": str(team.pk),
        "person": str(person.pk),
        "kind": "night",
        "name": "",
        "start_0": start.split()[0],
        "start_1": start.split()[1],
        "end_0": end.split()[0],
        "end_1": end.split()[1],
    }
    data.update(fields)
    return data


def test_a_shift_is_saved(admin_client):
    team = people_factories.team(1)
    [person] = technicians(1, 1)
    response = admin_client.post(
        reverse("admin:sla_shift_add"),
        shift_form(team, person, "2026-06-01 18:00:00", "2026-06-02 08:00:00"),
    )
    assert response.status_code == 302
    assert Shift.objects.get().person == person


@pytest.mark.parametrize(
    ("start", "end", "fields", "message"),
    [
        ("2026-06-02 08:00:00", "2026-06-01 18:00:00", {}, "A shift ends after it starts."),
        ("2026-06-01 18:00:00", "2026-06-01 18:00:00", {}, "A shift ends after it starts."),
        ("2026-06-01 18:00:00", "2026-07-01 18:00:00", {}, "at most 14 days"),
        ("2026-13-01 18:00:00", "2026-06-02 08:00:00", {}, "Enter a valid date"),
        ("2026-06-01 18:00:00", "2026-06-02 08:00:00", {"kind": "lunch"}, "Select a valid"),
    ],
)
def test_bad_shifts_are_refused(admin_client, start, end, fields, message):
    team = people_factories.team(1)
    [person] = technicians(1, 1)
    response = admin_client.post(
        reverse("admin:sla_shift_add"), shift_form(team, person, start, end, **fields)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Shift.objects.exists()


def test_overlapping_shifts_of_one_person_are_refused_even_across_teams(admin_client):
    [person] = technicians(1, 1)
    shift(
        people_factories.team(2),
        person,
        start=datetime(2026, 6, 1, 17, 0, tzinfo=UTC),
        hours=4,
    )
    response = admin_client.post(
        reverse("admin:sla_shift_add"),
        shift_form(people_factories.team(1), person, "2026-06-01 20:00:00", "2026-06-02 06:00:00"),
    )
    assert response.status_code == 200
    assert "is already on call then" in response.content.decode()
    assert Shift.objects.count() == 1
    # back to back is fine (the first ends at 21:00 UTC, which is when the next starts)
    response = admin_client.post(
        reverse("admin:sla_shift_add"),
        shift_form(people_factories.team(1), person, "2026-06-01 21:00:00", "2026-06-02 06:00:00"),
    )
    assert response.status_code == 302


def test_a_requester_is_not_offered_for_a_shift_or_a_pause(admin_client, employee):
    team = people_factories.team(1)
    response = admin_client.post(
        reverse("admin:sla_shift_add"),
        shift_form(team, employee, "2026-06-01 18:00:00", "2026-06-02 08:00:00"),
    )
    assert "Select a valid choice" in response.content.decode()
    response = admin_client.post(reverse("admin:sla_intakepause_add"), {"person": employee.pk})
    assert "Select a valid choice" in response.content.decode()
    assert not Shift.objects.exists() and not IntakePause.objects.exists()


def test_an_admin_pauses_a_technician(admin_client, tier1):
    response = admin_client.post(reverse("admin:sla_intakepause_add"), {"person": tier1.pk})
    assert response.status_code == 302
    assert IntakePause.objects.filter(person=tier1).exists()


@pytest.mark.parametrize("model", ["teamrota", "shift", "intakepause", "categoryskill", "page"])
def test_each_list_shows(admin_client, model):
    assert admin_client.get(reverse(f"admin:sla_{model}_changelist")).status_code == 200


def test_shifts_repeat_weekly_skipping_what_would_overlap(admin_client):
    team = people_factories.team(1)
    tech0, tech1 = technicians(1, 2)
    monday = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
    night = shift(team, tech0, start=monday, hours=14, name="Nights")
    other = shift(team, tech1, start=monday, hours=14)
    # tech1 is already on call the second week
    shift(people_factories.team(2), tech1, start=monday + timedelta(weeks=2, hours=2), hours=4)
    response = admin_client.post(
        reverse("admin:sla_shift_changelist"),
        {"action": "repeat_four_weeks", "_selected_action": [night.pk, other.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "7 shifts added." in page
    assert "1 skipped" in page and "is already on call then" in page
    copies = Shift.objects.filter(person=tech0, name="Nights").order_by("start")
    assert [s.start for s in copies] == [monday + timedelta(weeks=w) for w in range(5)]
    assert all(s.end - s.start == timedelta(hours=14) for s in copies)


def test_repeating_for_too_many_weeks_is_refused():
    with pytest.raises(ValidationError):
        repeat_weekly(shift_ids=[], weeks=0)
    with pytest.raises(ValidationError):
        repeat_weekly(shift_ids=[], weeks=13)

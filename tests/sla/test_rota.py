"""The on-call rota: who is on call now, the on-call page (paged, with my intake switch) and the
rota's iCalendar feed (parsed back: BEGIN/END pairs, folded lines, escaped text)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.people import factories as people_factories
from tests.sla.oncall_factories import rota, shift, technicians
from tierline.sla import rota as rota_queries
from tierline.sla.models import IntakePause, ShiftKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return people_factories.team(1)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_on_call_now_is_the_shifts_covering_the_moment(team):
    tech0, tech1 = technicians(1, 2)
    start = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    day = shift(team, tech0, start=start, hours=10, kind=ShiftKind.DAY)
    night = shift(team, tech1, start=start + timedelta(hours=10), hours=14)
    assert rota_queries.on_call(team.pk, start) == [day]
    assert rota_queries.on_call(team.pk, start + timedelta(hours=9, minutes=59)) == [day]
    # the end is not part of the shift: at 18:00 the night shift has it
    assert rota_queries.on_call(team.pk, start + timedelta(hours=10)) == [night]
    assert rota_queries.on_call(team.pk, start - timedelta(seconds=1)) == []
    assert rota_queries.on_call(people_factories.team(2).pk, start) == []


def test_the_page_lists_who_is_on_call_now_and_the_coming_shifts_paged(team, tier1):
    tech0, tech1 = technicians(1, 2)
    rota(team)
    shift(team, tech0, name="Cover <b>night</b>")
    for n in range(30):  # coming shifts, one a day
        shift(team, tech1, start=timezone.now() + timedelta(days=n + 1), hours=8)
    client = signed_in(tier1)
    page1 = client.get(reverse("sla:oncall")).content.decode()
    assert "On call now" in page1
    assert f"{tech0} (night shift until" in page1
    assert "Cover &lt;b&gt;night&lt;/b&gt;" in page1  # escaped, never marked safe
    assert "Page 1 of 2" in page1
    page2 = client.get(reverse("sla:oncall"), {"team": team.pk, "page": "2"}).content.decode()
    assert "Page 2 of 2" in page2
    # bad input is ignored, not a 500
    junk = client.get(reverse("sla:oncall"), {"team": "²", "page": "x"})
    assert junk.status_code == 200


def test_the_page_has_an_empty_state_and_is_for_the_help_desk_only(tier1, employee):
    page = signed_in(tier1).get(reverse("sla:oncall")).content.decode()
    assert "No team has an on-call rota yet." in page
    assert "No shifts to come." in page
    assert signed_in(employee).get(reverse("sla:oncall")).status_code == 302  # to the portal
    assert Client().get(reverse("sla:oncall")).status_code == 302  # to sign in


def test_a_technician_pauses_and_resumes_their_own_intake(tier1):
    client = signed_in(tier1)
    response = client.post(reverse("sla:intake"), {"paused": "1"}, follow=True)
    assert IntakePause.objects.filter(person=tier1).exists()
    assert "Take new tickets again" in response.content.decode()
    client.post(reverse("sla:intake"), {"paused": "0"})
    assert not IntakePause.objects.exists()
    assert client.get(reverse("sla:intake")).status_code == 405


# --- iCalendar ------------------------------------------------------------------------------


def parse_ics(text: str) -> list[dict[str, str]]:
    """A strict little reader: CRLF lines, each physical line at most 75 octets, folded lines
    joined, BEGIN/END properly nested; returns each VEVENT's properties, unescaped."""
    assert text.endswith("\r\n")
    physical = text[:-2].split("\r\n")
    for line in physical:
        assert len(line.encode()) <= 75, line
        assert "\n" not in line and "\r" not in line
    logical: list[str] = []
    for line in physical:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    stack: list[str] = []
    events, current = [], None
    for line in logical:
        name, _, value = line.partition(":")
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                current = {}
        elif name == "END":
            assert stack.pop() == value
            if value == "VEVENT":
                events.append(current)
                current = None
        elif current is not None:
            current[name] = unescape(value)
    assert stack == []
    assert logical[0] == "BEGIN:VCALENDAR" and logical[-1] == "END:VCALENDAR"
    return events


def unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            nxt = value[i + 1]
            assert nxt in "\\;,nN", f"bad escape \\{nxt}"
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            assert value[i] not in ";,", f"unescaped {value[i]!r} in {value!r}"
            out.append(value[i])
            i += 1
    return "".join(out)


def test_the_rota_exports_as_icalendar_that_parses_back(team, tier1):
    person = people_factories.technician(
        1, username="jo", first_name="Jo; “Ops”, \\ the", last_name="Éclair " * 8
    )
    start = timezone.now().replace(microsecond=0)
    shift(team, person, start=start, hours=12, name="Line one\nline two, with; marks")
    response = signed_in(tier1).get(reverse("sla:rota_ics", args=[team.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.content.decode()
    assert "\r\n " in text  # the long summary was folded
    [event] = parse_ics(text)
    assert event["SUMMARY"] == f"On call (Night): {person} · Line one\nline two, with; marks"
    assert event["DTSTART"] == start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert event["DTEND"] == (start + timedelta(hours=12)).astimezone(UTC).strftime(
        "%Y%m%dT%H%M%SZ"
    )
    assert event["UID"].startswith("shift-")


def test_folding_never_splits_a_character():
    line = "SUMMARY:" + "é" * 100 + "😀" * 30
    folded = rota_queries.ics_fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert "".join(p[1:] if n else p for n, p in enumerate(parts)) == line


def test_the_feed_is_for_the_help_desk_or_whoever_has_the_teams_token(team, employee):
    rota(team, ics_token="feed-token-123")
    url = reverse("sla:rota_ics", args=[team.pk])
    assert Client().get(url).status_code == 404
    assert signed_in(employee).get(url).status_code == 404
    assert Client().get(url, {"token": "wrong"}).status_code == 404
    assert Client().get(url, {"token": "feed-token-123"}).status_code == 200
    # a team without a token: no anonymous feed at all, even with an empty token
    other = people_factories.team(2)
    assert Client().get(reverse("sla:rota_ics", args=[other.pk]), {"token": ""}).status_code == 404


@pytest.mark.parametrize("team_id", ["0", "abc", "99999999999999999999", "²"])
def test_a_bad_team_in_the_feeds_address_is_a_404(tier1, team_id):
    assert signed_in(tier1).get(f"/sla/teams/{team_id}/rota.ics").status_code == 404


def test_the_page_costs_the_same_few_queries_however_many_shifts(
    team, tier1, django_assert_max_num_queries
):
    people = technicians(1, 5)
    rota(team)
    for n in range(40):
        shift(team, people[n % 5], start=timezone.now() + timedelta(hours=10 * n), hours=9)
    client = signed_in(tier1)
    client.get(reverse("sla:oncall"))  # the session and the user's teams warmed up
    with django_assert_max_num_queries(12):
        assert client.get(reverse("sla:oncall")).status_code == 200

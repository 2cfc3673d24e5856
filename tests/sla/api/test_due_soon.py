"""GET /api/v1/sla/due/: what falls due within N minutes (or is overdue), nearest first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tests.sla import factories
from tierline.desk import services as desk_services
from tierline.desk.choices import Priority

pytestmark = pytest.mark.django_db
URL = "/api/v1/sla/due/"


def opened_ago(employee, minutes: int, **kwargs):
    return desk_factories.ticket(
        employee, created_at=timezone.now() - timedelta(minutes=minutes), **kwargs
    )


def test_breaching_in_the_next_hour_lists_overdue_and_soon_nearest_first(api, employee, tier1):
    # given: 2 h to answer; tickets opened 3 h, 90 min, 30 min and 1 min ago
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (120, None, None)})
    overdue = opened_ago(employee, 180)
    soon = opened_ago(employee, 90)
    later = opened_ago(employee, 30)
    fresh = opened_ago(employee, 1)
    answered = opened_ago(employee, 100)
    desk_services.add_message(ticket=answered, by=tier1, body="On it.")
    # when
    body = api(tier1).get(URL, {"within": 60}).json()
    # then
    assert [row["number"] for row in body["results"]] == [overdue.number, soon.number]
    assert [row["sla_state"] for row in body["results"]] == ["breached", "at_risk"]
    wider = api(tier1).get(URL, {"within": 120}).json()["results"]
    assert [row["number"] for row in wider] == [
        overdue.number,
        soon.number,
        later.number,
        fresh.number,
    ]


def test_a_restricted_teams_tickets_are_left_out_for_outsiders(api, employee, tier1, lead):
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, None)})
    hr = people_factories.restricted_team()
    secret = opened_ago(employee, 90, team=hr)
    assert api(tier1).get(URL).json()["results"] == []
    assert [r["number"] for r in api(lead).get(URL).json()["results"]] == [secret.number]


@pytest.mark.parametrize("within", ["-1", "abc", "²", "99999999999999999999", "10081", ""])
def test_a_bad_window_is_a_clear_400(api, tier1, within):
    response = api(tier1).get(URL, {"within": within})
    assert response.status_code == 400
    assert "within" in response.json()


def test_requesters_are_refused(api, employee):
    assert api(employee).get(URL).status_code == 403
    assert api(None).get(URL).status_code == 401

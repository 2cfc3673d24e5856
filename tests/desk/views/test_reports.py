"""The escalation report: counts per tier step and per team, only visible tickets."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.desk import factories as desk_factories
from tierline.desk import services

pytestmark = pytest.mark.django_db


def _escalated_ticket(requester, by, times=1):
    ticket = desk_factories.ticket(requester)
    for _ in range(times):
        services.escalate(ticket=ticket, by=by, summary="Tried the usual fixes.")
    return ticket


def test_report_counts_escalations_per_tier(client, employee, lead):
    # given: one ticket escalated 1->2->3, another 1->2
    _escalated_ticket(employee, lead, times=2)
    _escalated_ticket(employee, lead, times=1)
    client.force_login(lead)
    # when
    response = client.get(reverse("desk:escalation_report"))
    # then
    assert response.status_code == 200
    steps = {(r["from_tier"], r["to_tier"]): r["count"] for r in response.context["steps"]}
    assert steps == {(1, 2): 2, (2, 3): 1}
    assert response.context["total_up"] == 3


def test_report_query_count_does_not_grow(client, employee, lead, django_assert_max_num_queries):
    client.force_login(lead)
    _escalated_ticket(employee, lead)
    with django_assert_max_num_queries(12):
        client.get(reverse("desk:escalation_report"))
    for _ in range(10):
        _escalated_ticket(employee, lead, times=2)
    with django_assert_max_num_queries(12):
        client.get(reverse("desk:escalation_report"))


def test_report_refused_to_requesters(client, employee):
    client.force_login(employee)
    assert client.get(reverse("desk:escalation_report")).status_code == 403


def test_report_bad_dates_are_explained_not_500(client, lead):
    client.force_login(lead)
    response = client.get(
        reverse("desk:escalation_report"), {"from": "yesterday", "to": "2020-01-01"}
    )
    assert response.status_code == 200
    assert any("not a date" in e for e in response.context["errors"])


def test_sidebar_counts_are_for_the_desk_only(client, employee, tier1):
    # given: one ticket in Tier 1's queue
    desk_factories.ticket(employee)
    # when / then: the technician gets the counts, the requester is refused
    client.force_login(tier1)
    response = client.get(reverse("desk:sidebar"), {"nav": "queue:team"})
    assert response.status_code == 200 and response.context["counts"]["team"] == 1
    client.force_login(employee)
    assert client.get(reverse("desk:sidebar")).status_code == 403

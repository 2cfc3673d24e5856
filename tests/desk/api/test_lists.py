"""The API's lists, built from the desk's list specs: their page shape, their orders, their
visibility (the same as the workspace pages') and what they cost in queries."""

from __future__ import annotations

import pytest

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services
from tierline.desk.lists import perms  # the visibility module the list specs ask
from tierline.desk.models import Call

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"


def _numbers(response) -> list[str]:
    return [t["number"] for t in response.json()["results"]]


def test_walking_next_visits_every_ticket_once(api, employee, tier1, settings):
    # given: 7 tickets, 3 a page
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 3}
    made = [desk_factories.ticket(employee, subject=f"Ticket {n}").number for n in range(7)]
    client = api(tier1)
    # when
    seen, url, pages = [], f"{TICKETS}?sort=number", []
    while url:
        answer = client.get(url).json()
        pages.append(answer)
        seen += [t["number"] for t in answer["results"]]
        url = answer["next"]
    # then
    assert seen == made
    assert [len(p["results"]) for p in pages] == [3, 3, 1]
    assert pages[0]["previous"] is None and "page" not in pages[1]["previous"]
    assert "page=2" in pages[2]["previous"] and set(pages[0]) == {
        "next",
        "previous",
        "results",
    }


@pytest.mark.parametrize("page", ["2", "abc", "0", "²", "99999999999999999999"])
def test_a_page_that_is_not_there_answers_404(api, employee, tier1, page):
    # given: one page of tickets
    desk_factories.ticket(employee)
    # when
    response = api(tier1).get(TICKETS, {"page": page})
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_only_orders_an_index_serves_are_accepted(api, employee, tier1):
    # given
    old = desk_factories.ticket(employee, subject="Older")
    new = desk_factories.ticket(employee, subject="Newer")
    client = api(tier1)
    # when
    by_ordering = client.get(TICKETS, {"ordering": "-number"})
    by_sort = client.get(TICKETS, {"sort": "number"})
    by_subject = client.get(TICKETS, {"ordering": "subject"})
    conflicting = client.get(TICKETS, {"ordering": "number", "sort": "-number"})
    # then
    assert _numbers(by_ordering) == [new.number, old.number]
    assert _numbers(by_sort) == [old.number, new.number]
    assert by_subject.status_code == 400
    assert "priority" in by_subject.json()["ordering"][0]
    assert "subject" not in by_subject.json()["ordering"][0]
    assert conflicting.status_code == 400 and "ordering" in conflicting.json()


@pytest.mark.parametrize(
    ("path", "sort"),
    [("/api/v1/work-orders/", "title"), ("/api/v1/calls/", "duration")],
)
def test_work_orders_and_calls_refuse_unindexed_orders(api, tier2, path, sort):
    response = api(tier2).get(path, {"sort": sort})
    assert response.status_code == 400 and "sort" in response.json()


def test_calls_are_seen_through_one_rule_in_the_api_and_the_page(
    api, client, employee, tier1, lead
):
    # given: tier1 took one call; the lead took one on a ticket and one solved on the phone
    ticket = desk_factories.ticket(employee)
    services.log_call(by=tier1, outcome=Call.Outcome.SOLVED, caller=employee)
    services.log_call(by=lead, outcome=Call.Outcome.EXISTING_TICKET, ticket=ticket, caller=employee)
    services.log_call(by=lead, outcome=Call.Outcome.SOLVED, caller_name="At reception")
    client.force_login(tier1)
    # when
    in_the_api = [c["id"] for c in api(tier1).get("/api/v1/calls/").json()["results"]]
    on_the_page = [c.pk for c in client.get("/desk/calls/").context["calls"]]
    for_the_lead = api(lead).get("/api/v1/calls/").json()["results"]
    # then: both are the permissions module's rule (whatever it is), newest first; the page
    # narrows it to the technician's own calls
    readable = perms.visible_calls(tier1).order_by("-started_at", "-pk")
    assert in_the_api == [c.pk for c in readable]
    assert on_the_page == [c.pk for c in readable.filter(technician=tier1)]
    assert len(for_the_lead) == 3


def test_work_orders_filter_by_day_and_technician(api, employee, tier2, tier3):
    # given
    ticket = desk_factories.ticket(employee, team=people_factories.team(2))
    mine = desk_factories.work_order(ticket, by=tier2)
    theirs = desk_factories.work_order(ticket, by=tier2, technician=tier3)
    client = api(tier2)
    day = mine.scheduled_start.date().isoformat()
    # when
    by_username = client.get("/api/v1/work-orders/", {"technician": tier3.username}).json()
    by_id = client.get("/api/v1/work-orders/", {"technician": str(tier2.pk)}).json()
    that_day = client.get("/api/v1/work-orders/", {"date": day}).json()
    bad_day = client.get("/api/v1/work-orders/", {"date": "3000-01-01"})
    # then
    assert [w["number"] for w in by_username["results"]] == [theirs.number]
    assert [w["number"] for w in by_id["results"]] == [mine.number]
    assert {w["number"] for w in that_day["results"]} >= {mine.number}
    assert bad_day.status_code == 400 and "date" in bad_day.json()


@pytest.mark.parametrize("rows", [4, 60])
def test_a_deep_ticket_page_costs_what_the_first_does(
    api, tier1, employee, rows, settings, django_assert_max_num_queries
):
    # given
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 2}
    for n in range(rows):
        desk_factories.ticket(employee, subject=f"Ticket {n}")
    client = api(tier1)
    # when / then: token, teams, ids, rows, and one for the sla app's fields (core.api_extras)
    with django_assert_max_num_queries(5):
        last = client.get(TICKETS, {"page": rows // 2})
    with django_assert_max_num_queries(5):
        first = client.get(TICKETS)
    assert last.status_code == first.status_code == 200
    assert len(last.json()["results"]) == 2 and last.json()["next"] is None


def test_work_orders_are_those_the_permissions_module_lets_one_see(
    api, employee, tier1, tier2, lead
):
    # given: visits on a Tier 2 ticket and on a Tier 1 ticket
    at_tier2 = desk_factories.ticket(employee, team=people_factories.team(2))
    at_tier1 = desk_factories.ticket(employee)
    desk_factories.work_order(at_tier2, by=lead, technician=tier2)
    desk_factories.work_order(at_tier1, by=lead, technician=tier2)
    desk_factories.work_order(at_tier2, by=lead, technician=tier1)
    # when
    listed = api(tier1).get("/api/v1/work-orders/", {"sort": "-scheduled"}).json()["results"]
    for_lead = api(lead).get("/api/v1/work-orders/").json()["results"]
    # then
    readable = perms.visible_work_orders(tier1).order_by("-scheduled_start", "-pk")
    assert [w["number"] for w in listed] == [w.number for w in readable]
    assert len(for_lead) == 3

"""The ticket page's panel of the requester's other recent tickets, and the list of all of them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk.queries import RECENT_REQUESTER_TICKETS

pytestmark = pytest.mark.django_db


def page(ticket) -> str:
    return reverse("desk:ticket", args=[ticket.number])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def panel_of(html: str) -> str:
    start = html.index('data-panel="desk.requester_tickets"')
    return html[start : html.index("</section>", start)]


def test_the_ticket_page_lists_the_requesters_other_recent_tickets(employee, employee2, tier1):
    # given
    older = desk_factories.ticket(employee, subject="VPN drops at home")
    newer = desk_factories.ticket(employee, subject="Monitor flickers")
    desk_factories.ticket(employee2, subject="Someone else's mouse")
    current = desk_factories.ticket(employee, subject="Printer jams")
    # when
    panel = panel_of(signed_in(tier1).get(page(current)).content.decode())
    # then: newest first, linked, without the ticket itself or other people's
    assert "Erin Employee's other tickets" in panel
    assert panel.index("Monitor flickers") < panel.index("VPN drops at home")
    assert f'href="{page(newer)}"' in panel and f'href="{page(older)}"' in panel
    assert "Printer jams" not in panel and "Someone else" not in panel
    assert "All their tickets" not in panel


def test_a_first_ticket_says_there_are_no_others(employee, tier1):
    ticket = desk_factories.ticket(employee)
    panel = panel_of(signed_in(tier1).get(page(ticket)).content.decode())
    assert "No other tickets." in panel


def test_a_few_are_shown_with_a_link_to_all_of_them(employee, tier1):
    # given: more than the panel shows
    for n in range(RECENT_REQUESTER_TICKETS + 2):
        desk_factories.ticket(employee, subject=f"Problem {n}")
    current = desk_factories.ticket(employee, subject="Current")
    # when
    panel = panel_of(signed_in(tier1).get(page(current)).content.decode())
    all_url = f"{reverse('desk:search')}?requester={employee.pk}"
    # then
    assert panel.count("<li>") == RECENT_REQUESTER_TICKETS
    assert "Problem 0" not in panel and f"Problem {RECENT_REQUESTER_TICKETS + 1}" in panel
    assert f'href="{all_url}"' in panel
    # and that list holds every one of them, the current one included, newest first
    listing = signed_in(tier1).get(all_url).content.decode()
    assert "Tickets of Erin Employee" in listing
    assert listing.index("Current") < listing.index("Problem 0")
    assert all(f"Problem {n}" in listing for n in range(RECENT_REQUESTER_TICKETS + 2))


def test_the_panel_costs_one_query_however_many_tickets(employee, tier1):
    # given: two requesters, one with 2 other tickets and one with 12
    few = people_factories.UserFactory(username="few")
    many = people_factories.UserFactory(username="many")
    for _ in range(2):
        desk_factories.ticket(few)
    for _ in range(12):
        desk_factories.ticket(many)
    small, large = desk_factories.ticket(few), desk_factories.ticket(many)
    client = signed_in(tier1)
    client.get(page(small))  # warm per-process caches
    # when
    with CaptureQueriesContext(connection) as small_queries:
        client.get(page(small))
    with CaptureQueriesContext(connection) as large_queries:
        client.get(page(large))
    # then
    assert len(small_queries) == len(large_queries)
    panel_queries = [
        q
        for q in large_queries.captured_queries
        if "ORDER BY" in q["sql"] and "LIMIT 6" in q["sql"]
    ]
    assert len(panel_queries) == 1


def test_search_for_an_unknown_requester_says_so_and_lists_nothing_extra(tier1, employee):
    desk_factories.ticket(employee, subject="Mine")
    for junk in ("999999", "abc", "99999999999999999999999"):
        response = signed_in(tier1).get(reverse("desk:search"), {"requester": junk})
        html = response.content.decode()
        assert response.status_code == 200
        assert "Nobody in the directory has that id" in html
        assert "Mine" not in html

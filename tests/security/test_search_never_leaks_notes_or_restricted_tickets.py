"""Search is a side path where help desks leaked tickets: the index answers only what
desk.permissions lets the searcher read. A requester's words never match an internal note, a
technician never finds a restricted team's ticket (by its text, its replies or its notes), and
a technician who is only the requester of a restricted ticket finds it as a requester: not by
its notes. Checked on the lists' text filter (queue, API `q`) and on the search page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services
from tierline.knowledge.search import queries

pytestmark = pytest.mark.django_db

API = "/api/v1/tickets/"


@pytest.fixture(autouse=True, params=["few matches", "many matches"])
def sqlite_path(request, monkeypatch):
    """The lists and the search page take another path when many documents match (SQLite:
    queries.DENSE; PostgreSQL: queries.FEW): every test here runs on both."""
    if request.param == "many matches":
        monkeypatch.setattr(queries, "DENSE", 1)
        monkeypatch.setattr(queries, "FEW", 0)


def api_numbers(api, user, text):
    response = api(user).get(API, {"q": text})
    assert response.status_code == 200
    return [t["number"] for t in response.json()["results"]]


def page_text(user, text):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("knowledge:search"), {"q": text})
    assert response.status_code == 200
    return response.content.decode()


def test_a_requester_never_matches_an_internal_note(
    api, django_capture_on_commit_callbacks, employee, employee2, tier1
):
    # given: the requester's ticket, with a technician's internal note and a public reply
    with django_capture_on_commit_callbacks(execute=True):
        ticket = desk_factories.ticket(employee, subject="Laptop battery swells")
        services.add_message(
            ticket=ticket, by=tier1, body="Suspect fraudulent expenses claim", internal=True
        )
        services.add_message(ticket=ticket, by=tier1, body="A courier collects it tomorrow.")
    # when / then: the requester finds it by the reply, never by the note's words
    assert api_numbers(api, employee, "courier") == [ticket.number]
    assert api_numbers(api, employee, "fraudulent expenses") == []
    assert queries.search(employee, "fraudulent").hits == []
    # a technician finds it by the note; another requester by nothing
    assert api_numbers(api, tier1, "fraudulent expenses") == [ticket.number]
    assert "fraudulent" in page_text(tier1, "fraudulent expenses")
    assert api_numbers(api, employee2, "courier") == []
    assert api_numbers(api, employee2, "battery") == []


def test_a_restricted_teams_ticket_is_found_only_by_who_reads_it(
    api, django_capture_on_commit_callbacks, employee, tier1, tier2
):
    # given: an HR ticket (tier2 is in HR, tier1 is not) with a reply and a note
    hr = people_factories.restricted_team(members=[tier2])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = desk_factories.ticket(employee, subject="Grievance about my manager", team=hr)
        services.add_message(ticket=ticket, by=tier2, body="Meeting with payroll arranged.")
        services.add_message(ticket=ticket, by=tier2, body="Disciplinary hearing.", internal=True)
    # when / then: the outsider finds nothing, by any word, on any path
    for text in ("grievance", "payroll", "disciplinary", employee.last_name):
        assert api_numbers(api, tier1, text) == [], text
        assert "Grievance" not in page_text(tier1, text), text
        assert all(h.ticket is None for h in queries.search(tier1, text).hits), text
    # the member finds it by each
    for text in ("grievance", "payroll", "disciplinary"):
        assert api_numbers(api, tier2, text) == [ticket.number], text
        assert "Grievance" in page_text(tier2, text), text


def test_a_technician_who_asked_for_a_restricted_ticket_finds_it_as_a_requester(
    api, django_capture_on_commit_callbacks, tier1, tier2
):
    # given: tier1 asked HR for something; HR notes it internally
    hr = people_factories.restricted_team(members=[tier2])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = desk_factories.ticket(tier1, subject="Parental leave form", team=hr)
        services.add_message(ticket=ticket, by=tier2, body="Salary band query.", internal=True)
    # when / then: by its public words yes, by the note's no
    assert api_numbers(api, tier1, "parental leave") == [ticket.number]
    assert api_numbers(api, tier1, "salary band") == []
    assert [h.kind for h in queries.search(tier1, "salary band").hits] == []
    assert "Salary" not in page_text(tier1, "salary band")


def test_requesters_cannot_use_the_search_page(employee):
    client = Client()
    client.force_login(employee)
    response = client.get(reverse("knowledge:search"), {"q": "anything"})
    assert response.status_code == 302 and response.url == reverse("portal:home")

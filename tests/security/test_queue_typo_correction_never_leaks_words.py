"""The queue's "showing results for" is a side path: the word table holds the words of
internal notes and restricted teams' tickets, and a correction offered on its own would say
that such a word exists. It is offered only with tickets the technician may read."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services

pytestmark = pytest.mark.django_db


def queue_text(user, text, name="desk:search"):
    client = Client()
    client.force_login(user)
    response = client.get(reverse(name), {"q": text, "queue": "all"})
    assert response.status_code == 200
    return response.content.decode()


def test_a_restricted_teams_words_are_never_offered_to_an_outsider(
    django_capture_on_commit_callbacks, employee, tier1, tier2
):
    # given: an HR ticket (tier2 is in HR, tier1 is not) with a reply and an internal note
    hr = people_factories.restricted_team(members=[tier2])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = desk_factories.ticket(employee, subject="Grievance about my manager", team=hr)
        services.add_message(ticket=ticket, by=tier2, body="Meeting with payroll arranged.")
        services.add_message(ticket=ticket, by=tier2, body="Disciplinary hearing.", internal=True)
    # when / then: the outsider's typos find nothing and are offered no word, on both lists
    for typo in ("grievnce", "payrol", "disciplnary"):
        for name in ("desk:search", "desk:queue"):
            text = queue_text(tier1, typo, name)
            assert "Showing results for" not in text, (typo, name)
            assert ticket.number not in text, (typo, name)
    # the member is offered the words, with the ticket
    text = queue_text(tier2, "grievnce")
    assert ">grievance</a>" in text and ticket.number in text


def test_a_technician_who_asked_for_a_restricted_ticket_is_not_offered_its_notes_words(
    django_capture_on_commit_callbacks, tier1, tier2
):
    hr = people_factories.restricted_team(members=[tier2])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = desk_factories.ticket(tier1, subject="Parental leave form", team=hr)
        services.add_message(ticket=ticket, by=tier2, body="Salary band query.", internal=True)
    text = queue_text(tier1, "salry")
    assert "Showing results for" not in text and "salary" not in text.lower()
    # its public words are corrected: tier1 reads the ticket as its requester
    text = queue_text(tier1, "parentl")
    assert ">parental</a>" in text and ticket.number in text

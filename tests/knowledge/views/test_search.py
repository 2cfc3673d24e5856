"""The search page: one box, ranked and marked results, filters, straight to a ticket or person."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.desk import factories as desk_factories
from tierline.desk import services

pytestmark = pytest.mark.django_db

URL = "/knowledge/search/"


@pytest.fixture
def signed_in(tier1):
    client = Client()
    client.force_login(tier1)
    return client


def test_the_page_lists_tickets_replies_and_people_marked(
    signed_in, tier1, employee, django_capture_on_commit_callbacks
):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        ticket = desk_factories.ticket(employee, subject="Monitor <flickers>", description="Blue.")
        services.add_message(ticket=ticket, by=tier1, body="The monitor cable was loose.")
    # when
    body = signed_in.get(URL, {"q": "monitors"}).content.decode()
    # then: the ticket and the reply, typed markup escaped, matches marked
    assert reverse("desk:ticket", args=[ticket.number]) in body
    assert "&lt;flickers&gt;" in body and "<flickers>" not in body
    assert "<mark>Monitor</mark>" in body and "<mark>monitor</mark> cable" in body
    assert "Reply" in body


def test_kind_and_status_filters_narrow_it(signed_in, employee, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = desk_factories.ticket(employee, subject="Docking station dead")
    only_people = signed_in.get(URL, {"q": "docking", "kind": "person"}).content.decode()
    only_tickets = signed_in.get(URL, {"q": "docking", "kind": "ticket"}).content.decode()
    closed = signed_in.get(URL, {"q": "docking", "status": "closed"}).content.decode()
    assert ticket.number not in only_people and "Nothing you can see matches" in only_people
    assert ticket.number in only_tickets
    assert ticket.number not in closed


def test_a_number_or_an_email_goes_straight_there(signed_in, employee):
    ticket = desk_factories.ticket(employee)
    by_number = signed_in.get(URL, {"q": ticket.number})
    by_email = signed_in.get(URL, {"q": employee.email})
    assert by_number.status_code == 302
    assert by_number.url == reverse("desk:ticket", args=[ticket.number])
    assert by_email.status_code == 302
    assert by_email.url == reverse("desk:search") + f"?requester={employee.pk}"


@pytest.mark.parametrize(
    "params", [{"q": "x" * 10000}, {"q": "\x00"}, {"kind": "bogus", "q": "a"}, {"status": "?"}]
)
def test_odd_input_answers_a_page(signed_in, params):
    assert signed_in.get(URL, params).status_code == 200

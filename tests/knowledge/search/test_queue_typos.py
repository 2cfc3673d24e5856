"""The queue's text filter corrects a typo as the search page does: when `q` finds nothing and
a nearer word is known, the list shows that word's tickets and says so, with a link to search
as typed. The API's `q` stays exact (an integration gets what it asked for)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.desk import factories as desk_factories

pytestmark = pytest.mark.django_db

API = "/api/v1/tickets/"


@pytest.fixture
def printer(committed, employee):
    with committed():
        return desk_factories.ticket(
            employee, subject="Printer offline", description="The toner light blinks."
        )


def page(client, user, name, **params):
    client.force_login(user)
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("name", ["desk:queue", "desk:search"])
def test_the_queue_shows_the_corrected_words_and_says_so(printer, client, tier1, name):
    text = page(client, tier1, name, q="pinter", queue="team")
    assert printer.number in text
    assert "Showing results for “" in text and ">printer</a>”" in text
    assert "search instead for “" in text and "exact=1" in text


@pytest.mark.parametrize("name", ["desk:queue", "desk:search"])
def test_search_instead_keeps_the_words_as_typed(printer, client, tier1, name):
    text = page(client, tier1, name, q="pinter", queue="team", exact="1")
    assert printer.number not in text and "Showing results for" not in text


def test_two_words_one_mistyped_and_a_match_is_never_corrected(printer, client, tier1):
    text = page(client, tier1, "desk:queue", q="tonr light", queue="team")
    assert printer.number in text and ">toner light</a>" in text
    text = page(client, tier1, "desk:queue", q="printer", queue="team")
    assert printer.number in text and "Showing results for" not in text
    # nothing near: nothing found, nothing offered
    text = page(client, tier1, "desk:queue", q="xqzvw", queue="team")
    assert printer.number not in text and "Showing results for" not in text


def test_the_correction_keeps_the_other_filters(printer, client, tier1):
    # the corrected words find the ticket, but not among the closed ones: nothing is offered
    text = page(client, tier1, "desk:queue", q="pinter", queue="team", status="closed")
    assert printer.number not in text and "Showing results for" not in text


def test_the_api_q_stays_exact(printer, api, tier1):
    response = api(tier1).get(API, {"q": "pinter"})
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert not any(h.lower().startswith("x-search") for h in response.headers)
    found = api(tier1).get(API, {"q": "printer"}).json()["results"]
    assert [t["number"] for t in found] == [printer.number]

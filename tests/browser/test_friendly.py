"""Where a new user stumbled, in a real Chromium: the new-ticket form's person lookup, used from
the keyboard, and sharing a request from the portal."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.desk import factories as desk_factories
from tests.people.factories import UserFactory
from tierline.desk.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sams(db):
    return (
        UserFactory(username="sam.a", first_name="Sam", last_name="Able"),
        UserFactory(username="sam.b", first_name="Sam", last_name="Baker"),
    )


def test_new_ticket_finds_the_requester_as_one_types_and_picks_by_keyboard(tier1, sams, chromium):
    with chromium() as browser:
        # given: a technician on the new-ticket form
        tess = browser.person("tier1")
        sign_in(tess, "tier1")
        tess.goto("/desk/tickets/new/")
        # when: they type part of a name
        tess.get_by_label("Requester", exact=True).fill("Sam")
        # then: the matches arrive as radio buttons
        matches = tess.locator("#requester-matches")
        expect(matches.get_by_role("radio")).to_have_count(2)
        # when: they move into the choices with Tab and pick the second with the arrow key
        tess.keyboard.press("Tab")
        tess.keyboard.press("ArrowDown")
        expect(matches.get_by_role("radio", name=re.compile("Sam Baker"))).to_be_checked()
        tess.get_by_label("Subject").fill("Docking station dead")
        tess.get_by_label("Description").fill("No power light since Monday.")
        tess.get_by_role("button", name="Open ticket").click()
        expect(tess).to_have_url(re.compile(r"/desk/tickets/TL-\d+/$"))
        problems = list(browser.watch.problems)
    assert problems == []
    assert Ticket.objects.get(subject="Docking station dead").requester == sams[1]


def test_a_requester_shares_a_request_and_the_colleague_follows_it(employee, employee2, chromium):
    ticket = desk_factories.ticket(employee, subject="Team printer jams")
    with chromium() as browser:
        # given: the requester on their request
        erin = browser.person("employee")
        sign_in(erin, "employee")
        erin.goto(f"/portal/tickets/{ticket.number}/")
        # when: they share it with Omar by name
        erin.get_by_label("Share with a colleague").fill("Omar")
        erin.get_by_role("button", name="Share").click()
        # then
        expect(erin.get_by_text("is now shared with Omar Other")).to_be_visible()
        expect(erin.get_by_role("button", name="Remove Omar Other")).to_be_visible()
        # and Omar finds it in his portal
        omar = browser.person("employee2")
        sign_in(omar, "employee2")
        omar.goto("/portal/")
        omar.get_by_role("link", name="Team printer jams").click()
        expect(omar.get_by_role("heading", name="Team printer jams")).to_be_visible()
        problems = list(browser.watch.problems)
    assert problems == []

"""The ticket page's dialogs load their form when opened, in a real Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.desk import factories as desk_factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ticket(employee, tier1):
    return desk_factories.ticket(employee, subject="Outlook asks for the password every hour")


def test_dialog_loads_its_form_and_a_lapsed_session_leads_to_sign_in(ticket, tier1, chromium):
    page_url = f"/desk/tickets/{ticket.number}/"
    with chromium() as browser:
        # given: a technician on the ticket page, no dialog loaded yet
        tess = browser.person("tier1")
        sign_in(tess, "tier1")
        tess.goto(page_url)
        expect(tess.locator("#dlg-assign [data-dialog-placeholder]")).to_have_count(1)
        assign = tess.get_by_role("dialog", name="Assign")
        # when: they open "Assign…"
        tess.get_by_role("link", name="Assign…").click()
        # then: the form arrives in the open dialog, its first field focused
        expect(assign).to_be_visible()
        field = assign.get_by_label("Assignee")
        expect(field).to_be_focused()
        expect(field.locator("option", has_text=str(tier1))).to_have_count(1)
        # and Escape closes it; opening it again does not load it twice
        tess.keyboard.press("Escape")
        expect(assign).to_be_hidden()
        tess.get_by_role("link", name="Assign…").click()
        expect(assign.get_by_label("Assignee")).to_be_focused()
        tess.keyboard.press("Escape")

        # when: the session has lapsed and they open another dialog
        tess.context.clear_cookies()
        tess.get_by_role("link", name="Escalate…").click()
        # then: they are taken to sign in, and back to the action's page after it
        expect(tess).to_have_url(re.compile(r"/accounts/login/\?next="))
        tess.get_by_label("Username").fill("tier1")
        tess.get_by_label("Password").fill("pw-for-tests-1")
        tess.get_by_role("button", name="Sign in").click()
        expect(tess).to_have_url(re.compile(rf"/desk/tickets/{ticket.number}/do/escalate/$"))
        expect(tess.get_by_label("What was tried")).to_be_visible()
        problems = list(browser.watch.problems)
    assert problems == []

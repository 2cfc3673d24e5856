"""The composer's canned-response picker with htmx: typing narrows, Insert fills the reply box."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.desk import factories as desk_factories
from tierline.desk import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typing_narrows_and_insert_fills_the_composer(employee, tier1, chromium):
    employee.first_name = "Erin"
    employee.save(update_fields=["first_name"])
    ticket = desk_factories.ticket(employee, subject="VPN drops")
    services.save_canned_response(by=tier1, title="Printer driver", body="Reinstall it.")
    services.save_canned_response(
        by=tier1, title="Password reset", body="Hi {first_name}, {ticket_number} is done."
    )
    with chromium() as browser:
        tess = browser.person("tier1")
        sign_in(tess, "tier1")
        tess.goto(f"/desk/tickets/{ticket.number}/")
        picker = tess.get_by_role("form", name="Insert a canned response")
        choices = picker.get_by_role("combobox")
        expect(choices.locator("option")).to_have_count(2)
        # when: they type part of a title
        picker.get_by_label("Canned response").fill("pass")
        # then: only the matching response is offered
        expect(choices.locator("option")).to_have_count(1)
        expect(choices.locator("option")).to_have_text("Password reset (mine)")
        # when: they insert it
        picker.get_by_role("button", name="Insert").click()
        # then: the reply box holds it, filled in for this ticket
        expect(tess.locator("#reply textarea[name=body]")).to_have_value(
            f"Hi Erin, {ticket.number} is done."
        )
        problems = list(browser.watch.problems)
    assert problems == []

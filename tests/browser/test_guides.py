"""Guided troubleshooting in Chromium: the admin's guide page; Tier 1 runs a guide from the ticket page and escalates
with the answers; an employee runs a public guide in the portal at phone width and asks the
help desk with the form already filled. axe-core checks every page; the watch fails on console
and HTTP errors."""

from __future__ import annotations

import pytest

from tests.browser import axe
from tests.browser.conftest import sign_in
from tests.desk import factories as desk_factories
from tests.knowledge import guide_factories
from tierline.desk.models import Escalation
from tierline.knowledge.models import Guide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def printer_ticket(tier1, employee):
    guide_factories.printer_guide()
    return desk_factories.ticket(
        requester=employee,
        subject="Blank pages from the floor 2 printer",
        category=guide_factories.printer_category(),
    )


def test_a_guide_run_on_a_ticket_and_in_the_portal(
    printer_ticket, admin_user, chromium, screenshots
):
    guide_id = Guide.objects.get().pk
    results = []
    with chromium() as browser:
        admin = browser.person("admin")
        sign_in(admin, "admin")
        admin.goto(f"/admin/knowledge/guide/{guide_id}/change/")
        assert admin.get_by_label("Answers").first.input_value() == "Yes -> 2\nNo -> 3"
        results.append(axe.check(admin, "guide in the admin", watch=browser.watch))

        tech = browser.person("tier1")
        sign_in(tech, "tier1")
        tech.goto(f"/desk/tickets/{printer_ticket.number}/")
        tech.get_by_role("button", name="Run Printer prints blank pages").click()
        tech.wait_for_load_state()
        results.append(axe.check(tech, "guide step", watch=browser.watch))
        tech.screenshot(path=screenshots / "guide-step-1280.png", full_page=True)
        tech.get_by_role("button", name="No").click()
        tech.wait_for_load_state()
        tech.get_by_role("button", name="Yes").click()
        tech.wait_for_load_state()
        results.append(axe.check(tech, "guide ending", watch=browser.watch))
        tech.get_by_role(
            "button", name=f"Escalate {printer_ticket.number} with these answers"
        ).click()
        tech.wait_for_load_state()
        assert f"/desk/tickets/{printer_ticket.number}/" in tech.url

        person = browser.person("employee-phone", width=390, height=844)
        sign_in(person, "employee")
        person.goto("/portal/help/")
        results.append(axe.check(person, "portal help with guides", watch=browser.watch))
        person.get_by_role("button", name="Printer prints blank pages").click()
        person.wait_for_load_state()
        person.get_by_role("button", name="No").click()
        person.wait_for_load_state()
        person.get_by_role("button", name="Yes").click()
        person.wait_for_load_state()
        results.append(axe.check(person, "portal guide ending", watch=browser.watch))
        person.screenshot(path=screenshots / "guide-portal-390.png", full_page=True)
        overflow = person.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
        person.get_by_role("link", name="Ask the help desk, with these answers").click()
        person.wait_for_load_state()
        description = person.get_by_label("Tell us more").input_value()
        problems = list(browser.watch.problems)

    violations = [line for result in results for line in result.lines()]
    assert violations == [], axe.report(results)
    assert problems == []
    assert "Is the toner cartridge new?\n   Answer: Yes" in description
    assert "Answer: Yes" in Escalation.objects.get(ticket=printer_ticket).summary

"""The technician's pages at phone width (390 x 844, an iPhone 12 to 15): cards, no sideways
scroll, the ticket read before its side details. Screenshots go to var/screenshots/phone-*.png."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# A subject with a path no line break can split: a card must still not widen the page.
LONG_SUBJECT = r"Mapped drive \\fs02\Finance\Quarterly-Reports-2026-Consolidated-Final missing"


@pytest.fixture
def day_of_work(employee, tier2) -> dict:
    """Tier 2's queue with a few tickets, a visit today and a call: every list has rows."""
    team = people_factories.team(2)
    tickets = [
        desk_factories.ticket(employee, subject=LONG_SUBJECT, team=team),
        desk_factories.ticket(employee, subject="Laptop very slow since the update", team=team),
        desk_factories.ticket(employee, subject="Second monitor not detected", team=team),
    ]
    today = timezone.localdate()
    start = datetime.combine(today, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    visit = desk_factories.work_order(tickets[0], by=tier2, start=start + timedelta(hours=10))
    services.log_call(
        by=tier2,
        outcome="existing_ticket",
        caller=employee,
        ticket=tickets[1],
        duration_seconds=300,
        notes="Rang about the slow laptop; talked through the update log.",
    )
    return {"tickets": tickets, "visit": visit}


def scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def box(page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def test_technician_pages_fit_a_phone(day_of_work, chromium, screenshots):
    first = day_of_work["tickets"][0]
    pages = {
        "queue": "/desk/?queue=team",
        "ticket": f"/desk/tickets/{first.number}/",
        "work-order-new": f"/desk/tickets/{first.number}/work-orders/new/",
        "work-orders": "/desk/work-orders/",
        "work-order": f"/desk/work-orders/{day_of_work['visit'].number}/",
        "calls": "/desk/calls/",
        "call-new": "/desk/calls/new/",
        "ticket-new": "/desk/tickets/new/",
    }
    widths: dict[str, int] = {}
    with chromium() as browser:
        # given: Tier 2 on a phone
        theo = browser.person("tier2", **PHONE)
        sign_in(theo, "tier2")
        # when: they open each of their pages
        for name, url in pages.items():
            theo.goto(url)
            theo.wait_for_load_state("networkidle")
            widths[name] = scroll_width(theo)
            theo.screenshot(path=screenshots / f"phone-{name}.png", full_page=True)

        # then (the queue): each ticket is a card, with what a technician picks a ticket by
        theo.goto("/desk/?queue=team")
        card = theo.locator("tr[data-nav-row]").filter(has_text=first.number)
        expect(card).to_have_css("display", "flex")
        expect(card).to_contain_text(LONG_SUBJECT)
        expect(card).to_contain_text("Erin Employee")
        expect(card).to_contain_text(re.compile(r"· opened (just now|\d+ \w+ ago)"))
        expect(card.locator("td.priority .badge")).to_be_visible()
        expect(card.locator("td.status .badge")).to_have_text("New")
        expect(theo.get_by_role("columnheader", name="Subject")).to_be_hidden()
        card_box = card.bounding_box()
        assert card_box is not None and card_box["x"] + card_box["width"] <= PHONE["width"]
        # and the whole card is the link: a tap on its empty lower right corner opens it
        theo.mouse.click(
            card_box["x"] + card_box["width"] - 6, card_box["y"] + card_box["height"] - 6
        )
        expect(theo).to_have_url(re.compile(rf"/desk/tickets/{first.number}/$"))

        # then (the ticket): the description and the timeline come before the side details
        description = box(theo, "section.ticket-body")
        timeline = box(theo, ".ticket-main .timeline")
        side = box(theo, "aside.ticket-side")
        assert description["y"] + description["height"] <= side["y"]
        assert timeline["y"] < side["y"]
        assert description["x"] >= 0 and side["x"] >= 0

        # then (the navigation): a strip whose current link is in view
        theo.goto("/desk/calls/")
        expect(theo.locator(".sidebar .nav .count").first).to_be_visible()  # counts swapped in
        nav = box(theo, ".sidebar .nav")
        current = box(theo, '.sidebar .nav [aria-current="page"]')
        assert (
            nav["x"] <= current["x"] and current["x"] + current["width"] <= nav["x"] + nav["width"]
        ), (nav, current)
        # and the calls list is cards too, each line named after its column
        call = theo.locator("table.stack-on-phone tbody tr").first
        expect(call).to_have_css("display", "block")
        labels = call.locator("td").evaluate_all(
            "cells => cells.map(c => getComputedStyle(c, '::before').content)"
        )
        expect(call).to_contain_text(day_of_work["tickets"][1].number)
        problems = list(browser.watch.problems)

    assert widths == dict.fromkeys(pages, PHONE["width"]), widths
    assert labels == [
        '"When"',
        '"Caller"',
        '"Direction"',
        '"Talk time"',
        '"Outcome"',
        '"Ticket"',
    ], labels
    assert problems == []

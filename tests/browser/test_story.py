"""The whole help desk story in a real Chromium: ask, take, escalate, visit, resolve, confirm.

At every page state on the way, the admin pages and a few pages at phone width, axe-core checks
the page (WCAG 2.0/2.1 A and AA and its best practices): the story passes with 0 violations.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser import axe
from tests.browser.conftest import sign_in
from tests.conftest import api_key
from tierline.desk.models import Category, Status, Ticket, WorkOrder
from tierline.people.models import Team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBJECT = "Printer on floor 2 prints blank pages"
DESCRIPTION = "Since this morning every page comes out blank. Other printers are fine."
REPLY = "Thanks Erin, I'm looking at it now. Could you try printing a test page?"
SUMMARY = "INTERNAL: power-cycled the printer and cleared the queue; still blank pages."
RESOLUTION = "We replaced the toner cartridge; the test page prints fine now."
OUTCOME = "Toner cartridge was empty and replaced; printed a test page."


ADMIN_PAGES = (
    ("/admin/people/user/", "admin: people"),
    ("/admin/people/user/?role__exact=technician", "admin: people, filtered"),
    ("/admin/people/user/{employee}/change/", "admin: a person"),
    ("/admin/people/user/{tier1}/change/", "admin: a person with a token"),
    ("/admin/people/team/", "admin: teams"),
    ("/admin/people/team/{team}/change/", "admin: a team"),
    ("/admin/desk/category/", "admin: categories"),
    ("/admin/desk/category/{category}/change/", "admin: a category"),
    ("/admin/desk/priorityrule/", "admin: priority matrix"),
    ("/admin/desk/category/add/", "admin: new category"),
    ("/admin/desk/resolutioncode/", "admin: resolution codes"),
    ("/admin/desk/", "admin: the desk's models"),
    ("/admin/core/scheduledjob/", "admin: scheduled jobs"),
    ("/health/", "health page"),
)


def go(page, control) -> None:
    """Click a link or submit button and wait for the page it leads to, which must be a 200."""
    with page.expect_navigation() as navigation:
        control.click()
    response = navigation.value
    assert response is not None and response.status == 200, (response.status, response.url)


class Audit:
    """axe-core at every page state of the story; the findings are asserted at the end."""

    def __init__(self, watch) -> None:
        self.watch = watch
        self.results: list[axe.AxeResult] = []

    def __call__(self, page, name: str) -> None:
        page.wait_for_load_state("networkidle")  # htmx fragments (sidebar counts) are in
        self.results.append(axe.check(page, name, watch=self.watch))


def say(page, text: str) -> None:
    """The page's django message says `text` (success and info messages are role=status)."""
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


@pytest.fixture
def people(employee, tier1, tier2, admin_user) -> dict:
    """Everybody in the story, created before Playwright starts."""
    assert finders.find("tierline/app.css"), "the stylesheet must be found, or pages are bare"
    return {"employee": employee, "tier1": tier1, "tier2": tier2, "admin": admin_user}


@pytest.fixture
def admin_pages(people) -> list[tuple[str, str]]:
    """The admin pages the administrator visits, with the ids of rows that exist."""
    api_key(people["tier1"])  # a person with an API token: the inline shows a row
    ids = {
        "employee": people["employee"].pk,
        "tier1": people["tier1"].pk,
        "team": Team.objects.order_by("pk").first().pk,
        "category": Category.objects.order_by("pk").first().pk,
    }
    return [(path.format(**ids), name) for path, name in ADMIN_PAGES]


def test_help_desk_story(people, admin_pages, chromium, screenshots):
    tomorrow = timezone.localtime() + timedelta(days=1)
    visit_from = tomorrow.replace(hour=9, minute=0).strftime("%Y-%m-%dT%H:%M")
    visit_until = tomorrow.replace(hour=10, minute=30).strftime("%Y-%m-%dT%H:%M")

    with chromium() as browser:
        audit = Audit(browser.watch)
        # 1. The employee asks for help.
        # given
        erin = browser.person("employee")
        erin.goto("/accounts/login/")
        audit(erin, "sign-in")
        sign_in(erin, "employee")
        expect(erin).to_have_url(re.compile(r"/portal/$"))
        audit(erin, "portal: home (empty)")
        # when
        go(
            erin,
            erin.get_by_role("navigation", name="Portal").get_by_role("link", name="Ask for help"),
        )
        audit(erin, "portal: new request")
        erin.get_by_label("What is it about?").select_option(label="Printer & scanner")
        erin.get_by_label("In a few words, what's wrong?").fill(SUBJECT)
        erin.get_by_label("Tell us more").fill(DESCRIPTION)
        erin.get_by_label("It stops me working").check()
        erin.get_by_label("Screenshots or files (optional)").set_input_files(
            {"name": "printer-log.txt", "mimeType": "text/plain", "buffer": b"page 1: blank\n"}
        )
        erin.screenshot(path=screenshots / "portal-new.png", full_page=True)
        go(erin, erin.get_by_role("button", name="Send request"))
        # then
        expect(erin).to_have_url(re.compile(r"/portal/tickets/TL-\d+/$"))
        number = erin.url.rstrip("/").rsplit("/", 1)[-1]
        say(erin, f"Thanks, we've got it: {number}")
        expect(erin.get_by_role("heading", name=SUBJECT)).to_be_visible()
        expect(erin.locator(".page-head")).to_contain_text("Received, not picked up yet")
        expect(erin.get_by_role("link", name="printer-log.txt")).to_be_visible()
        audit(erin, "portal: request sent")
        go(
            erin,
            erin.get_by_role("navigation", name="Portal").get_by_role("link", name="My requests"),
        )
        audit(erin, "portal: home (one request)")
        go(erin, erin.get_by_role("link", name=SUBJECT))

        # 2. Tier 1 finds it in the queue, takes it, replies, and escalates.
        # given
        tess = browser.person("tier1")
        sign_in(tess, "tier1")
        # when: she lands on her team queue
        expect(tess).to_have_url(re.compile(r"/desk/$"))
        expect(tess.get_by_role("heading", name="My teams")).to_be_visible()
        row = tess.get_by_role("row").filter(has_text=number)
        expect(row.get_by_role("link", name=SUBJECT)).to_be_visible()
        tess.screenshot(path=screenshots / "queue.png", full_page=True)
        audit(tess, "desk: queue")
        go(tess, row.get_by_role("link", name=SUBJECT))
        audit(tess, "desk: ticket (new)")
        # then: the description and the file came through
        expect(tess).to_have_url(re.compile(rf"/desk/tickets/{number}/$"))
        expect(tess.get_by_text(DESCRIPTION)).to_be_visible()
        expect(tess.get_by_role("link", name="printer-log.txt").first).to_be_visible()
        # when: she takes it
        go(tess, tess.get_by_role("button", name="Take", exact=True))
        expect(tess.get_by_role("region", name="Ticket", exact=True)).to_contain_text("Tess One")
        # when: a public reply
        tess.get_by_label("Message").fill(REPLY)
        go(tess, tess.get_by_role("button", name="Send", exact=True))
        expect(tess.locator(".timeline .entry.public").filter(has_text=REPLY)).to_be_visible()
        audit(tess, "desk: ticket (taken, replied)")
        erin.reload()
        expect(erin.locator(".timeline").get_by_text(REPLY)).to_be_visible()
        audit(erin, "portal: request (a reply)")
        # when: she escalates with what was tried
        tess.get_by_role("link", name="Escalate…").click()
        dialog = tess.get_by_role("dialog", name="Escalate")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_label("What was tried")).to_be_focused()  # loaded when opened
        audit(tess, "desk: ticket, Escalate dialog")
        dialog.get_by_label("What was tried").fill(SUMMARY)
        go(tess, dialog.get_by_role("button", name="Escalate"))
        # then: it left Tier 1's view; she is back on her queue, where it no longer is
        say(tess, f"Ticket {number} escalated to")
        expect(tess).to_have_url(re.compile(r"/desk/$"))
        expect(tess.get_by_role("row").filter(has_text=number)).to_have_count(0)
        audit(tess, "desk: queue (after escalating)")
        go(tess, tess.locator(".topbar").get_by_role("link", name="Log a call"))
        audit(tess, "desk: call form")

        # 3. Tier 2 plans a visit, records it, and resolves.
        # given
        theo = browser.person("tier2")
        sign_in(theo, "tier2")
        # when: his team queue has it, at Tier 2
        row = theo.get_by_role("row").filter(has_text=number)
        expect(row.get_by_role("cell", name="Tier 2 Tier 2 Desktop & Applications")).to_be_visible()
        go(theo, row.get_by_role("link", name=number))
        expect(theo.locator(".timeline .entry.escalation").filter(has_text=SUMMARY)).to_be_visible()
        audit(theo, "desk: ticket (escalated)")
        # when: a work order
        go(theo, theo.get_by_role("link", name="Plan a visit"))
        expect(theo).to_have_url(re.compile(rf"/desk/tickets/{number}/work-orders/new/$"))
        audit(theo, "desk: work order form")
        theo.get_by_label("Technician").select_option(label="Theo Two")
        theo.get_by_label("From").fill(visit_from)
        theo.get_by_label("Until").fill(visit_until)
        theo.get_by_label("Desk:", exact=True).fill("2.14")
        theo.get_by_label("Instructions").fill("Bring a spare toner cartridge.")
        theo.get_by_label("Checklist").fill("Replace the toner\nPrint a test page")
        go(theo, theo.get_by_role("button", name="Schedule the visit"))
        # then
        expect(theo).to_have_url(re.compile(r"/desk/work-orders/[^/]+/$"))
        say(theo, "Theo Two visits")
        audit(theo, "desk: work order (scheduled)")
        # when: the visit is done
        complete = theo.locator("form").filter(has=theo.get_by_role("button", name="Mark done"))
        complete.get_by_label("Replace the toner").check()
        complete.get_by_label("Print a test page").check()
        complete.get_by_label("Outcome").fill(OUTCOME)
        complete.get_by_label("Signed off by").fill("Erin Employee")
        complete.get_by_label("Time spent (minutes)").fill("25")
        go(theo, complete.get_by_role("button", name="Mark done"))
        # then
        say(theo, "signed off by Erin Employee")
        expect(theo.get_by_text(OUTCOME)).to_be_visible()
        theo.screenshot(path=screenshots / "work-order.png", full_page=True)
        audit(theo, "desk: work order (done)")
        # when: back on the ticket, he resolves it
        go(theo, theo.locator(".page-head").get_by_role("link", name=number))
        theo.get_by_role("link", name="Resolve…").click()
        dialog = theo.get_by_role("dialog", name="Resolve")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_label("Resolution", exact=True)).to_be_visible()
        audit(theo, "desk: ticket, Resolve dialog")
        dialog.get_by_label("Resolution", exact=True).select_option(label="Hardware replaced")
        dialog.get_by_label("Resolution note (the requester reads it)").fill(RESOLUTION)
        dialog.get_by_label("Time spent (minutes)").fill("5")
        go(theo, dialog.get_by_role("button", name="Resolve"))
        # then: the whole story is on the timeline
        say(theo, f"Ticket {number} resolved")
        expect(theo.locator(".page-head")).to_contain_text("Resolved")
        timeline = theo.locator(".timeline")
        expect(timeline.locator(".entry.escalation").filter(has_text=SUMMARY)).to_be_visible()
        expect(timeline.locator(".entry.public").filter(has_text=REPLY)).to_be_visible()
        expect(timeline.locator(".entry").filter(has_text="scheduled work order")).to_be_visible()
        expect(timeline.locator(".entry.public").filter(has_text=RESOLUTION)).to_be_visible()
        theo.screenshot(path=screenshots / "ticket.png", full_page=True)
        audit(theo, "desk: ticket (resolved)")
        for link, name in (
            ("My visits", "desk: work orders"),
            ("Calls", "desk: calls"),
            ("Call report", "desk: call report"),
            ("Escalations", "desk: escalation report"),
        ):
            go(
                theo,
                theo.get_by_role("navigation", name="Workspace").get_by_role("link", name=link),
            )
            audit(theo, name)

        # 4. The employee reads the fix and confirms it.
        # given
        erin.reload()
        expect(erin.locator(".page-head")).to_contain_text("Fixed: please confirm")
        expect(erin.get_by_role("heading", name="Did this fix it?")).to_be_visible()
        audit(erin, "portal: request (fixed?)")
        expect(erin.locator(".resolution").get_by_text(RESOLUTION)).to_be_visible()
        expect(erin.locator(".timeline").get_by_text(REPLY)).to_be_visible()
        # when
        go(erin, erin.get_by_role("button", name="Yes, it's fixed"))
        # then: done, in plain words, and nothing internal shows
        say(erin, f"{number} is now closed")
        expect(erin.locator(".page-head")).to_contain_text("Done")
        expect(erin.get_by_text("This request is closed.").first).to_be_visible()
        content = erin.content()
        assert SUMMARY not in content, "the escalation summary is internal"
        assert OUTCOME not in content, "the work order's outcome is internal"
        erin.screenshot(path=screenshots / "portal.png", full_page=True)
        audit(erin, "portal: request (closed)")

        # 5. The administrator looks at the configuration.
        ada = browser.person("admin")
        sign_in(ada, "admin")
        ada.goto("/admin/")
        audit(ada, "admin: index")
        for path, name in admin_pages:
            response = ada.goto(path)
            assert response is not None and response.status == 200, (response.status, path)
            audit(ada, name)

        # 6. Some of the same pages at phone width.
        phone = browser.person("employee, phone", width=390, height=844)
        phone.goto("/accounts/login/")
        audit(phone, "phone: sign-in")
        sign_in(phone, "employee")
        audit(phone, "phone: portal home")
        phone.goto(f"/portal/tickets/{number}/")
        audit(phone, "phone: portal request")
        phone = browser.person("tier2, phone", width=390, height=844)
        sign_in(phone, "tier2")
        audit(phone, "phone: desk queue")
        phone.goto(f"/desk/tickets/{number}/")
        audit(phone, "phone: desk ticket")

        problems = list(browser.watch.problems)

    # 7. Nothing went wrong on the way, axe-core found nothing, and the database agrees.
    report = axe.report(audit.results)
    print("\n" + report)  # shown with -s; also kept next to the screenshots
    (screenshots.parent / "axe-report.txt").write_text(report + "\n", encoding="utf-8")
    assert problems == []
    found = [line for result in audit.results for line in result.lines()]
    assert found == [], "axe-core found violations (see the report above)"
    ticket = Ticket.objects.get(number=number)
    assert ticket.status == Status.CLOSED
    assert ticket.tier == 2
    assert ticket.escalation_count == 1
    assert ticket.resolution_code.code == "replaced"
    assert ticket.attachments.get().name == "printer-log.txt"
    work_order = WorkOrder.objects.get(ticket=ticket)
    assert work_order.status == WorkOrder.Status.DONE
    assert [item["done"] for item in work_order.checklist] == [True, True]
    for name in ("queue", "ticket", "portal", "portal-new", "work-order"):
        assert (screenshots / f"{name}.png").stat().st_size > 0

"""Notifications in a real Chromium: the header's unread count arrives after the page, the
inbox opens the ticket, and the ticket's notices are then read; a technician adds a watcher
from the ticket page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import axe
from tests.browser.conftest import sign_in
from tests.desk import factories as desk_factories
from tierline.desk import services as desk
from tierline.mail.models import Notification, Watcher

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_inbox_tells_a_technician_and_reading_the_ticket_clears_it(
    employee, tier1, tier2, chromium
):
    # given a ticket for tier 1's team that the requester then writes on
    ticket = desk_factories.ticket(employee, subject="Printer jams on page two")
    desk.take(ticket=ticket, by=tier1)
    desk.add_message(ticket=ticket, by=employee, body="It jams again.")
    unread = Notification.objects.filter(recipient=tier1, read_at__isnull=True).count()
    assert unread == 2  # the new ticket, then the reply (two transactions)
    with chromium() as browser:
        # at phone width the count fits: the page is no wider than the phone
        phone = browser.person("tier1 on a phone", width=390, height=844)
        sign_in(phone, "tier1")
        phone.goto("/desk/")
        expect(phone.locator("a.inbox-link .count")).to_have_text("2")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        tess = browser.person("tier1")
        sign_in(tess, "tier1")
        tess.goto("/desk/")
        # then the header shows the count once the page has loaded
        link = tess.locator("a.inbox-link")
        expect(link.locator(".count")).to_have_text("2")
        # when she opens her notifications and the notice
        link.click()
        expect(tess.get_by_role("heading", name="Notifications")).to_be_visible()
        inbox = axe.check(tess, "inbox", watch=browser.watch)
        assert inbox.violations == [], axe.report([inbox])
        tess.get_by_role("link", name=f"replied on {ticket.number}").click()
        # then the ticket is open and both its notices are read
        expect(tess.get_by_role("heading", name="Printer jams on page two")).to_be_visible()
        expect(tess.locator("a.inbox-link")).to_have_text("Inbox")
        # when she adds tier 2 as a watcher in the side panel
        watchers = tess.get_by_role("region", name="Watchers")
        watchers.get_by_label("Add a watcher").fill("tier2")
        watchers.get_by_role("button", name="Add").click()
        expect(tess.get_by_role("region", name="Watchers")).to_contain_text("Theo Two")
        page = axe.check(tess, "ticket with a watcher", watch=browser.watch)
        assert page.violations == [], axe.report([page])
    assert Watcher.objects.filter(ticket=ticket, person=tier2).exists()
    assert not Notification.objects.filter(recipient=tier1, read_at__isnull=True).exists()

"""The workspace by keyboard, in a real Chromium: "?" lists the shortcuts, j/k/Enter walk the
queue, and a select changes a ticket only when its form is submitted (WCAG 3.2.2)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.history import history_of
from tierline.desk.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def queue(employee, tier2) -> list[Ticket]:
    """Three tickets in Tier 2's team queue."""
    team = people_factories.team(2)
    return [
        desk_factories.ticket(employee, subject=subject, team=team)
        for subject in (
            "VPN drops every ten minutes",
            "Outlook asks for the password every hour",
            "Docking station no longer detects the monitor",
        )
    ]


def current_row(page):
    return page.locator("tr[data-nav-row].is-current")


def test_shortcut_list_and_walking_the_queue(queue, chromium, screenshots):
    with chromium() as browser:
        # given: Tier 2 on their team queue
        theo = browser.person("tier2")
        sign_in(theo, "tier2")
        theo.goto("/desk/?queue=team")
        links = theo.locator("tr[data-nav-row] a.title")
        expect(links).to_have_count(3)
        order = [links.nth(i).get_attribute("href") for i in range(3)]

        # when: "?"
        theo.keyboard.press("?")
        # then: the list of shortcuts, with the "g" links of this page, closed by Escape
        shortcuts = theo.get_by_role("dialog", name="Keyboard shortcuts")
        expect(shortcuts).to_be_visible()
        expect(shortcuts).to_contain_text("Next / previous ticket in a list")
        expect(shortcuts.locator("[data-shortcuts-go]")).to_contain_text("Go to My teams")
        theo.screenshot(path=screenshots / "keyboard-shortcuts.png")
        theo.keyboard.press("Escape")
        expect(shortcuts).to_be_hidden()

        # when: typing in the search box, or a key with a modifier
        search = theo.get_by_label("Search tickets")
        search.click()
        theo.keyboard.type("j?k")
        # then: the keys are text, not shortcuts
        expect(search).to_have_value("j?k")
        expect(shortcuts).to_be_hidden()
        expect(current_row(theo)).to_have_count(0)
        theo.keyboard.press("Escape")  # leaves the search box
        theo.keyboard.press("Alt+j")
        expect(current_row(theo)).to_have_count(0)

        # when: j, j, k, j
        theo.keyboard.press("j")
        expect(current_row(theo).locator("a.title")).to_be_focused()
        expect(current_row(theo).locator("a.title")).to_have_attribute("href", order[0])
        theo.keyboard.press("j")
        theo.keyboard.press("k")
        expect(current_row(theo).locator("a.title")).to_have_attribute("href", order[0])
        theo.keyboard.press("j")
        # then: the second ticket is selected, visibly, and focused
        expect(current_row(theo)).to_have_count(1)
        expect(current_row(theo).locator("a.title")).to_have_attribute("href", order[1])
        expect(current_row(theo).locator("a.title")).to_be_focused()
        theo.screenshot(path=screenshots / "keyboard-queue.png")
        # when: Enter
        theo.keyboard.press("Enter")
        # then: that ticket opens
        expect(theo).to_have_url(re.compile(re.escape(order[1]) + "$"))
        expect(theo.get_by_role("heading", level=1)).to_have_text(
            "Outlook asks for the password every hour"
        )
        # and on the ticket page the topbar's "?" button opens the same list, "Close" closes it
        theo.get_by_role("button", name="Keyboard shortcuts").click()
        shortcuts = theo.get_by_role("dialog", name="Keyboard shortcuts")
        expect(shortcuts).to_be_visible()
        shortcuts.get_by_role("button", name="Close").click()
        expect(shortcuts).to_be_hidden()
        expect(theo).to_have_url(re.compile(re.escape(order[1]) + "$"))
        problems = list(browser.watch.problems)
    assert problems == []


def test_arrowing_through_the_status_select_changes_nothing_until_saved(
    queue, chromium, screenshots
):
    left_alone, saved = queue[0], queue[1]
    before = {t.pk: (t.status, t.version, history_of(t).count()) for t in (left_alone, saved)}
    posts: list[str] = []
    with chromium() as browser:
        # given: Tier 2 on a ticket, the status select focused by keyboard
        theo = browser.person("tier2")
        theo.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        sign_in(theo, "tier2")
        posts.clear()
        theo.goto(f"/desk/tickets/{left_alone.number}/")
        status = theo.get_by_label("Status", exact=True)
        status.focus()
        shown = status.input_value()
        # when: Arrow Down, as a keyboard user looking at the options would
        theo.keyboard.press("ArrowDown")
        # then: the select shows another option, and nothing was sent or reloaded
        expect(status).not_to_have_value(shown)
        theo.wait_for_timeout(800)
        assert posts == []
        expect(theo).to_have_url(re.compile(rf"/desk/tickets/{left_alone.number}/$"))
        expect(status).to_be_focused()
        theo.screenshot(path=screenshots / "keyboard-status-select.png")

        # when: on another ticket they arrow twice and press "Save status"
        theo.goto(f"/desk/tickets/{saved.number}/")
        status = theo.get_by_label("Status", exact=True)
        status.focus()
        theo.keyboard.press("ArrowDown")
        theo.keyboard.press("ArrowDown")
        chosen = status.input_value()
        assert posts == []
        with theo.expect_navigation():
            theo.get_by_role("button", name="Save status").click()
        # then: one request, and the page shows the chosen status
        expect(theo.get_by_label("Status", exact=True)).to_have_value(chosen)
        problems = list(browser.watch.problems)

    assert problems == []
    assert posts == [f"{browser_origin(posts)}/desk/tickets/{saved.number}/do/status/"]
    left_alone.refresh_from_db()
    saved.refresh_from_db()
    # the ticket only arrowed through is as it was
    assert (left_alone.status, left_alone.version, history_of(left_alone).count()) == before[
        left_alone.pk
    ]
    # the saved one moved once, to the option chosen, with one history entry
    status_was, version_was, entries_were = before[saved.pk]
    assert saved.status == chosen != status_was
    assert saved.version == version_was + 1
    assert history_of(saved).count() == entries_were + 1


def browser_origin(urls: list[str]) -> str:
    """The scheme and host of the first URL (the live server's)."""
    match = re.match(r"https?://[^/]+", urls[0]) if urls else None
    return match.group(0) if match else ""

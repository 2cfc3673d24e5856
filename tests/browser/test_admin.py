"""The admin as an IT admin meets it, in a real Chromium: sections, the matrix grid, a team's
members (the admin's own scripts run under the strict Content-Security-Policy)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_admin_configures_the_matrix_and_a_team(admin_user, tier1, lead, chromium, screenshots):
    team = tier1.teams.get()
    with chromium() as browser:
        # given: the administrator on the admin's front page
        page = browser.person("admin")
        sign_in(page, "admin")
        page.goto("/admin/")
        expect(page.get_by_role("link", name="People & teams")).to_be_visible()
        expect(page.get_by_role("link", name="Desk settings")).to_be_visible()
        expect(page.get_by_role("link", name="Access attempts")).to_have_count(0)
        page.screenshot(path=screenshots / "admin-front-page.png", full_page=True)
        # the system tables are one link away
        page.get_by_role(
            "link", name="System tables (login lockouts, background tasks, scheduled jobs)"
        ).click()
        expect(page.get_by_role("link", name="Access attempts")).to_be_visible()

        # when: they make low impact × high urgency critical in the grid
        page.goto("/admin/")
        page.get_by_role("link", name="Priority matrix").click()
        page.get_by_label("Low impact × High urgency").select_option(label="P1 Critical")
        page.screenshot(path=screenshots / "admin-priority-matrix.png", full_page=True)
        page.get_by_role("button", name="Save").click()
        # then
        expect(page.get_by_text("Priority matrix saved: 1 cell changed.")).to_be_visible()
        expect(page.get_by_label("Low impact × High urgency")).to_have_value("1")

        # when: they open the team and add the lead with the members picker
        page.goto(f"/admin/people/team/{team.pk}/change/")
        expect(page.get_by_role("link", name="Tess One")).to_be_visible()
        page.get_by_role("listbox", name="Available members").select_option(label="Lee Lead")
        page.get_by_role("button", name="Choose selected members").click()
        expect(page.get_by_role("listbox", name="Chosen members")).to_contain_text("Lee Lead")
        page.screenshot(path=screenshots / "admin-team.png", full_page=True)
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_text("was changed successfully")).to_be_visible()
        page.goto(f"/admin/people/team/{team.pk}/change/")
        # then
        expect(page.get_by_role("link", name="Lee Lead")).to_be_visible()
        problems = list(browser.watch.problems)
    assert problems == []
    assert set(team.members.all()) == {tier1, lead}

"""The queue's bulk actions are disabled, not only greyed out, until a ticket is ticked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.desk import factories as desk_factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ticket(employee, tier1):
    return desk_factories.ticket(employee, subject="The scanner sends empty PDFs")


def test_bulk_actions_are_disabled_until_a_ticket_is_ticked(ticket, tier1, chromium):
    with chromium() as browser:
        # given: Tier 1 on the team queue, nothing ticked
        tess = browser.person("tier1")
        sign_in(tess, "tier1")
        bar = tess.get_by_role("group", name="Bulk actions")
        assign = bar.get_by_role("button", name="Assign", exact=True)
        expect(assign).to_be_disabled()
        expect(bar.get_by_label("Assign to")).to_be_disabled()
        # when: one ticket is ticked
        tess.get_by_label(f"Select {ticket.number}").check()
        # then: the actions can be used; unticked, they are disabled again
        expect(assign).to_be_enabled()
        expect(bar.get_by_label("New status")).to_be_enabled()
        tess.get_by_label(f"Select {ticket.number}").uncheck()
        expect(assign).to_be_disabled()
        problems = list(browser.watch.problems)
    assert problems == []

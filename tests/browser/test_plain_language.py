"""The plain-language check in the reply composer with htmx: suggestions appear as one types,
in a polite live region, and the reply still sends as typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import axe
from tests.browser.conftest import sign_in
from tests.desk import factories as desk_factories
from tierline.assist.models import GlossaryTerm
from tierline.desk.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_suggestions_appear_as_one_types_and_never_stop_the_reply(employee, tier1, chromium):
    # The glossary is seeded by a migration, and an earlier transactional test's flush empties
    # it: this test's terms are its own.
    GlossaryTerm.objects.get_or_create(term="reboot", defaults={"plain": "restart"})
    GlossaryTerm.objects.get_or_create(
        term="VPN", defaults={"plain": "the secure connection to the office network"}
    )
    ticket = desk_factories.ticket(employee, subject="VPN drops")
    body = "Please reboot your laptop & sign in to the VPN again."
    results = []
    with chromium() as browser:
        tess = browser.person("tier1", width=390, height=844)
        sign_in(tess, "tier1")
        tess.goto(f"/desk/tickets/{ticket.number}/")
        region = tess.locator("#plain-check-result")
        expect(region).to_have_attribute("aria-live", "polite")
        # when: they type a reply with jargon in it
        tess.get_by_label("Message").press_sequentially(body, delay=5)
        # then: the suggestions come in without a click
        expect(region).to_contain_text("Instead of “reboot”, try “restart”.")
        expect(region).to_contain_text("Instead of “VPN”")
        results.append(axe.check(tess, "composer with suggestions (phone)", watch=browser.watch))
        # and "Check wording" asks again in place
        tess.get_by_role("button", name="Check wording").click()
        expect(region).to_contain_text("Score")
        assert f"/desk/tickets/{ticket.number}/" in tess.url
        # when: they send it anyway
        tess.get_by_role("button", name="Send").click()
        tess.wait_for_load_state()
        expect(tess.get_by_text(f"Reply sent on {ticket.number}.")).to_be_visible()
        problems = list(browser.watch.problems)

    violations = [line for result in results for line in result.lines()]
    assert violations == [], axe.report(results)
    assert problems == []
    assert Message.objects.filter(ticket=ticket, body=body, internal=False).exists()

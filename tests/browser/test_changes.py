"""An approver at phone width: the change calendar fits the screen, and approving a change is
done from the keyboard. Screenshots go to var/screenshots/changes-*.png."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import sign_in
from tests.changes.factories import change, fresh
from tierline.changes import services
from tierline.changes.models import Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def submitted(tier1, tier2):
    today = timezone.localdate()
    start = datetime.combine(today, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    c = change(
        tier1,
        title="Replace the core switch in building B & the uplinks",
        approvers=(tier2,),
        window_start=start + timedelta(hours=20),
        window_end=start + timedelta(hours=23),
    )
    return services.submit(change=c, by=tier1, version=None)


def test_an_approver_approves_on_a_phone_by_keyboard(submitted, chromium, screenshots):
    with chromium() as browser:
        page = browser.person("tier2", **PHONE)
        sign_in(page, "tier2")
        page.goto("/changes/calendar/")
        assert page.get_by_text(submitted.number).count() == 1
        page.screenshot(path=screenshots / "changes-calendar.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_role("link", name=submitted.number).click()
        page.wait_for_load_state()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_label("Approve").focus()
        page.keyboard.press("Space")
        page.get_by_label("Comment").fill("Fine by me.")
        page.get_by_role("button", name="Record my decision").focus()
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        page.screenshot(path=screenshots / "changes-approved.png", full_page=True)
        problems = list(browser.watch.problems)
    assert not problems, problems
    assert fresh(submitted).status == Status.APPROVED

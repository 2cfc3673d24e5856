"""Every portal page works on a 375 px wide phone: nothing makes the page scroll sideways."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

import tierline
from tests.desk import factories as desk_factories
from tierline.desk import services

STATIC_DIR = Path(tierline.__file__).parent / "static"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make browser)"),
    pytest.mark.django_db(transaction=True),
]

LONG_WORD = "Outlook" + "x" * 120


@pytest.fixture
def stylesheet(settings):
    """The stylesheet must load, or the test measures an unstyled page."""
    assert finders.find("tierline/app.css")


@pytest.fixture
def phone(live_server, stylesheet, employee):
    """A 375 px wide Chromium signed in as the employee.

    Playwright runs an event loop in this thread, and the ORM would open a second connection
    inside it (never closed): so tests set up their data in fixtures that come before this one.
    """
    from playwright.sync_api import sync_playwright

    client = Client()
    client.force_login(employee)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 375, "height": 740})
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
        )
        page = context.new_page()
        yield page
        browser.close()


WIDEST = """
[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 376)
  .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
"""


def overflow(page) -> int:
    """How many pixels wider than the screen the page is (0 when it fits)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.fixture
def long_words_ticket(employee, tier1):
    """Long unbroken words everywhere a requester can type them."""
    ticket = desk_factories.ticket(
        employee,
        subject=f"{LONG_WORD} keeps crashing",
        description=f"<p>{LONG_WORD}</p><pre>{LONG_WORD} {LONG_WORD}</pre>",
        uploads=[SimpleUploadedFile(f"{LONG_WORD}.txt", b"log")],
    )
    services.add_message(ticket=ticket, by=tier1, body=f"Try {LONG_WORD} in safe mode.")
    services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Reinstalled.")
    for n in range(3):
        desk_factories.ticket(employee, subject=f"Another request {n}")
    return ticket


def test_portal_pages_fit_a_phone(long_words_ticket, phone, live_server):
    # given
    ticket = long_words_ticket
    pages = [
        reverse("portal:home"),
        reverse("portal:home") + "?tab=closed",
        reverse("portal:new"),
        reverse("portal:ticket", args=[ticket.number]),
    ]
    for path in pages:
        # when
        phone.goto(live_server.url + path)
        # then
        assert phone.locator("main#content").is_visible(), path
        assert phone.evaluate("document.styleSheets[0].cssRules.length") > 0, "no stylesheet"
        assert overflow(phone) <= 0, (
            f"{path} is {overflow(phone)} px too wide at 375 px: {phone.evaluate(WIDEST)}"
        )


def test_new_request_form_with_errors_fits_a_phone(phone, live_server):
    # given
    phone.goto(live_server.url + reverse("portal:new"))
    # when: sent empty
    phone.get_by_role("button", name="Send request").click()
    # then
    assert phone.get_by_text("Please write a subject.").is_visible()
    assert overflow(phone) <= 0

"""The knowledge base in Chromium: a technician turns a resolved ticket into a public article
and links it; an employee reads it in the portal, at desktop and phone width, and says it
helped. axe-core checks every page; the watch fails on console errors and HTTP errors."""

from __future__ import annotations

import pytest

from tests.browser import axe
from tests.browser.conftest import sign_in
from tests.desk import factories as desk_factories
from tests.knowledge import factories
from tierline.desk import services as desk_services
from tierline.knowledge.models import Article, Feedback, TicketLink

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def resolved_ticket(tier1, employee):
    ticket = desk_factories.ticket(
        requester=employee,
        subject="Teams says my camera is in use",
        description="Every call, Teams shows no video and says another app uses the camera.",
    )
    desk_services.resolve(
        ticket=ticket,
        by=tier1,
        resolution_code="fixed",
        body="Closed the Camera app that was still running in the background.",
    )
    factories.category("Video calls")
    return ticket


def test_a_resolved_ticket_becomes_a_public_article_employees_read(
    resolved_ticket, chromium, screenshots
):
    results = []
    with chromium() as browser:
        # given a technician on the resolved ticket
        tech = browser.person("tier1")
        sign_in(tech, "tier1")
        tech.goto(f"/desk/tickets/{resolved_ticket.number}/")
        results.append(axe.check(tech, "ticket with knowledge panel", watch=browser.watch))

        # when they turn it into an article, rewrite it plainly and make it public
        tech.get_by_role("link", name="Turn into an article").click()
        tech.wait_for_load_state()
        assert "Closed the Camera app" in tech.get_by_label("Article").input_value()
        results.append(axe.check(tech, "write an article", watch=browser.watch))
        tech.get_by_label("Title").fill("Teams says your camera is in use")
        tech.get_by_label("Article").fill(
            "## Why it happens\n\nOnly one app can use the camera at a time.\n\n"
            "## What to do\n\n1. Close the **Camera** app.\n2. Start the call again."
        )
        tech.get_by_label("Category").select_option(label="Video calls")
        tech.get_by_label("Public: employees read it in the portal").check()
        tech.get_by_role("button", name="Save").click()
        tech.wait_for_load_state()
        assert tech.get_by_role("heading", level=1).inner_text() == (
            "Teams says your camera is in use"
        )
        results.append(axe.check(tech, "article", watch=browser.watch))
        tech.goto("/knowledge/")
        results.append(axe.check(tech, "knowledge list", watch=browser.watch))

        # then an employee finds it under Help articles and reads it, also on a phone
        for width, name in ((1280, "employee"), (390, "employee-phone")):
            person = browser.person(name, width=width, height=844)
            sign_in(person, "employee")
            person.get_by_role("link", name="Help articles").click()
            person.get_by_role("link", name="Teams says your camera is in use").click()
            person.wait_for_load_state()
            assert person.get_by_role("heading", name="What to do").is_visible()
            results.append(axe.check(person, f"help article at {width}px", watch=browser.watch))
            person.screenshot(path=screenshots / f"knowledge-portal-{width}.png", full_page=True)
            overflow = person.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px"
        person.get_by_role("button", name="Yes, it helped").click()
        person.wait_for_load_state()
        assert person.get_by_text("1 found it helpful, 0 did not.").is_visible()
        problems = list(browser.watch.problems)

    violations = [line for result in results for line in result.lines()]
    assert violations == [], axe.report(results)
    assert problems == []
    article = Article.objects.get()
    assert article.is_public and article.source_ticket_id == resolved_ticket.pk
    assert TicketLink.objects.filter(ticket=resolved_ticket, article=article).exists()
    assert Feedback.objects.get().helpful is True

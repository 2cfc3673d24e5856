"""One way to show stored text: core.sanitise.render_text, used by the desk, the portal and
work orders alike (the portal used to drop a requester's line breaks)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.sanitise import render_text
from tierline.desk import services

MULTILINE = "First line\nSecond line\nThird line"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_plain_text_keeps_its_line_breaks_and_loses_scripts():
    html = render_text("one\ntwo<script>alert(1)</script>")
    assert html == "one<br>two"


def test_text_with_block_markup_is_not_given_extra_breaks():
    assert render_text("<p>one</p>\n<p>two</p>") == "<p>one</p>\n<p>two</p>"


def test_nothing_renders_as_empty():
    assert render_text(None) == ""


@pytest.mark.django_db
def test_a_requesters_multi_line_message_shows_on_separate_lines_in_the_portal_and_the_desk(
    employee, tier1
):
    # given a ticket whose description and reply have several lines
    ticket = desk_factories.ticket(requester=employee, description=MULTILINE)
    services.add_message(ticket=ticket, by=employee, body="Reply one\nReply two")
    expected = "First line<br>Second line<br>Third line"
    # when each side looks at it
    portal = signed_in(employee).get(reverse("portal:ticket", args=[ticket.number])).content
    desk = signed_in(tier1).get(reverse("desk:ticket", args=[ticket.number])).content
    # then both keep the lines
    for page in (portal.decode(), desk.decode()):
        assert expected in page
        assert "Reply one<br>Reply two" in page


@pytest.mark.django_db
def test_work_order_instructions_keep_their_line_breaks(employee, tier2):
    ticket = desk_factories.ticket(requester=employee, team=people_factories.team(2))
    start = timezone.now() + timedelta(days=1)
    wo = services.create_work_order(
        ticket=ticket,
        by=tier2,
        technician=tier2,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        instructions="Bring a toner\nAsk for Erin at reception",
    )
    page = signed_in(tier2).get(reverse("desk:work_order", args=[wo.number])).content.decode()
    assert "Bring a toner<br>Ask for Erin at reception" in page

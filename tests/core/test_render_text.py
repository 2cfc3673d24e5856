"""One way to show stored text: core.sanitise.render_text, used by the desk, the portal and
work orders alike (the portal used to drop a requester's line breaks)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.sanitise import render_text
from tierline.desk import services

MULTILINE = "First line\nSecond line\nThird line"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_text_is_escaped_and_keeps_its_line_breaks():
    html = render_text("one\ntwo<script>alert(1)</script>")
    assert html == "one<br>two&lt;script&gt;alert(1)&lt;/script&gt;"


def test_markup_is_shown_as_the_text_that_was_typed():
    assert (
        render_text("<p>one</p>\n<p>two</p>") == "&lt;p&gt;one&lt;/p&gt;<br>&lt;p&gt;two&lt;/p&gt;"
    )
    assert render_text("Printer & scanner <2nd floor>") == "Printer &amp; scanner &lt;2nd floor&gt;"


def test_an_entity_typed_is_shown_as_typed_not_decoded():
    assert render_text("write &amp; for &") == "write &amp;amp; for &amp;"


def test_nothing_renders_as_empty():
    assert render_text(None) == ""


def test_web_addresses_become_links_and_the_sentence_keeps_its_full_stop():
    html = render_text("See https://wiki.example.org/vpn?a=1&b=2. Then retry")
    assert html == (
        'See <a href="https://wiki.example.org/vpn?a=1&amp;b=2" rel="noopener noreferrer nofollow">'
        "https://wiki.example.org/vpn?a=1&amp;b=2</a>. Then retry"
    )


def test_an_address_in_brackets_keeps_a_bracket_it_opened():
    html = render_text("(docs: https://en.wikipedia.org/wiki/Foo_(bar))")
    assert 'href="https://en.wikipedia.org/wiki/Foo_(bar)"' in html
    assert html.endswith("</a>)")


def test_only_http_addresses_are_links():
    for text in ("javascript:alert(1)", "file:///etc/passwd", "mailto:a@b.c", "https://"):
        assert "<a" not in render_text(text)


def test_an_address_cannot_break_out_of_its_attribute():
    html = render_text('https://x.org/"onmouseover=alert(1) <b>')
    assert html.startswith('<a href="https://x.org/" rel=')
    assert "&quot;onmouseover=alert(1) &lt;b&gt;" in html


def _as_text(html: str) -> str:
    """What a reader sees: our own tags taken out, entities decoded."""
    return unescape(
        re.sub(r"<a href=\"[^\"]*\" rel=\"[^\"]*\">|</a>", "", html).replace("<br>", "\n")
    )


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_is_shown_exactly_and_carries_no_markup_of_its_own(text):
    html = render_text(text)
    # the only tags are our line breaks and links
    assert (
        re.sub(r"<br>|<a href=\"https?://[^\"<>]*\" rel=\"[^\"]*\">|</a>", "", html).count("<") == 0
    )
    # and a reader sees what was typed
    assert _as_text(html) == text


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

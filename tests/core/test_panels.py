"""Panels: another app shows itself on desk pages through a registered slot, never an import."""

from __future__ import annotations

import logging

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils.html import format_html

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core import panels
from tierline.desk import panels as desk_panels


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_desk_declares_its_slots():
    names = {slot.name for slot in panels.slots()}
    assert {
        desk_panels.TICKET_MAIN,
        desk_panels.TICKET_SIDE,
        desk_panels.REQUESTER_CARD,
        desk_panels.SIDEBAR,
    } <= names


def test_a_panel_needs_a_declared_slot_and_one_way_to_render():
    with pytest.raises(ValueError, match="No slot named 'desk.nowhere'"):
        panels.register_panel("desk.nowhere", "x.y", render=lambda r, o: "")
    with pytest.raises(ValueError, match="either a template or a render"):
        panels.register_panel(desk_panels.TICKET_SIDE, "x.y")
    with pytest.raises(ValueError, match="either a template or a render"):
        panels.register_panel(
            desk_panels.TICKET_SIDE, "x.y", template="a.html", render=lambda r, o: ""
        )


def test_a_panel_name_is_unique_in_its_slot():
    with (
        panels.panel_registered(desk_panels.TICKET_SIDE, "x.once", render=lambda r, o: "a"),
        pytest.raises(ValueError, match="already in slot"),
    ):
        panels.register_panel(desk_panels.TICKET_SIDE, "x.once", render=lambda r, o: "b")
    # and once the block ends it is gone
    assert all(p.name != "x.once" for p in panels.panels_for(desk_panels.TICKET_SIDE))


def test_panels_render_in_order_and_plain_text_is_escaped():
    request = RequestFactory().get("/")
    with (
        panels.panel_registered(
            desk_panels.TICKET_SIDE, "b.second", render=lambda r, o: "<b>&</b>", order=20
        ),
        panels.panel_registered(
            desk_panels.TICKET_SIDE,
            "a.first",
            render=lambda r, o: format_html("<em>{}</em>", o),
            order=10,
        ),
    ):
        html = panels.render_slot(desk_panels.TICKET_SIDE, request, "Tom & Jerry")
    assert html.index('data-panel="a.first"') < html.index('data-panel="b.second"')
    assert "<em>Tom &amp; Jerry</em>" in html
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in html


@pytest.mark.django_db
def test_a_registered_panel_shows_on_the_ticket_page_without_the_desk_importing_it():
    # given a panel registered for each ticket-page slot by code outside the desk
    tech = people_factories.technician(1)
    ticket = desk_factories.ticket()
    with (
        panels.panel_registered(
            desk_panels.TICKET_MAIN,
            "test.main",
            render=lambda request, t: format_html("<p>Main panel for {}</p>", t.number),
        ),
        panels.panel_registered(
            desk_panels.TICKET_SIDE,
            "test.side",
            render=lambda request, t: format_html("<p>Side panel by {}</p>", request.user),
        ),
        panels.panel_registered(
            desk_panels.REQUESTER_CARD,
            "test.card",
            render=lambda request, person: format_html("<p>Devices of {}</p>", person.username),
        ),
        panels.panel_registered(
            desk_panels.SIDEBAR,
            "test.sidebar",
            render=lambda request, user: format_html("<p>On call tonight: {}</p>", user.username),
        ),
    ):
        # when the technician opens the ticket
        response = signed_in(tech).get(reverse("desk:ticket", args=[ticket.number]))
    # then every panel is on the page, with the page's object
    html = response.content.decode()
    assert response.status_code == 200
    assert f"<p>Main panel for {ticket.number}</p>" in html
    assert f"<p>Side panel by {tech}</p>" in html
    assert f"<p>Devices of {ticket.requester.username}</p>" in html
    assert f"<p>On call tonight: {tech.username}</p>" in html


@pytest.mark.django_db
def test_a_panel_that_fails_or_declines_is_left_out_and_the_page_still_shows(caplog):
    tech = people_factories.technician(1)
    ticket = desk_factories.ticket()

    def broken(request, t):
        raise RuntimeError("the sla app is down")

    with (
        panels.panel_registered(desk_panels.TICKET_SIDE, "test.broken", render=broken),
        panels.panel_registered(
            desk_panels.TICKET_SIDE,
            "test.declines",
            render=lambda r, t: "should not show",
            when=lambda request, t: not t.is_open,
        ),
        caplog.at_level(logging.ERROR, logger="tierline.core.panels"),
    ):
        response = signed_in(tech).get(reverse("desk:ticket", args=[ticket.number]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-panel="test.broken"' not in html
    assert "should not show" not in html
    assert "Panel test.broken in slot desk.ticket.side failed" in caplog.text


@pytest.mark.django_db
def test_a_template_panel_gets_the_object_and_its_context(tmp_path, settings):
    # given a template panel with extra context
    (tmp_path / "test_panel.html").write_text("<p>{{ object.number }}: {{ note }}</p>")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    ticket = desk_factories.ticket()
    request = RequestFactory().get("/")
    request.user = people_factories.technician(1)
    with panels.panel_registered(
        desk_panels.TICKET_MAIN,
        "test.template",
        template="test_panel.html",
        context=lambda r, t: {"note": "breaches in 2 h"},
    ):
        html = panels.render_slot(desk_panels.TICKET_MAIN, request, ticket)
    assert f"<p>{ticket.number}: breaches in 2 h</p>" in html

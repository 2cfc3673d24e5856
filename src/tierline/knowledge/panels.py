"""The knowledge base on desk pages (slots declared by desk/panels.py): on a ticket, the
articles it was solved with, a field to link one and, once resolved, "Turn into an article",
and the troubleshooting guides of its category; on the call log's page, the guides; in the
workspace sidebar, the link to the knowledge base. And the knowledge base's own slot, on the
article page, where other apps show their panels to the help desk."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from tierline.core.panels import declare_slot, panels_for, register_panel
from tierline.desk import permissions as perms
from tierline.desk.choices import Status
from tierline.knowledge.guides import guides_for_ticket
from tierline.knowledge.queries import can_write, linked_articles

ARTICLE = "knowledge.article"
TICKET_PANEL = "knowledge.ticket_articles"
SIDEBAR_LINK = "knowledge.sidebar"
TICKET_GUIDES = "knowledge.ticket_guides"
CALL_GUIDES = "knowledge.call_guides"


def declare_slots() -> None:
    declare_slot(
        ARTICLE,
        "An article's page, under the article, seen by the help desk only (object: the "
        "article; read its title, body (Markdown) and is_public)",
    )


def _ticket_context(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    return {
        "links": linked_articles(ticket.pk),
        "can_turn_into_article": ticket.status in (Status.RESOLVED, Status.CLOSED),
    }


def _on_ticket(request: HttpRequest, ticket: Any) -> bool:
    """Technicians who read the ticket as the help desk (not a requester, not a technician
    reading a restricted team's ticket as its requester)."""
    return can_write(request.user) and perms.can_note_ticket(request.user, ticket)


def _sidebar(request: HttpRequest, user: Any) -> SafeString:
    html = render_to_string("knowledge/_sidebar_link.html", {}, request=request)
    return mark_safe(html.strip())  # noqa: S308 (a template's output, autoescaped)


if not any(p.name == TICKET_PANEL for p in panels_for("desk.ticket.side")):
    register_panel(
        "desk.ticket.side",
        TICKET_PANEL,
        template="knowledge/_ticket_panel.html",
        context=_ticket_context,
        when=_on_ticket,
        order=30,
    )

if not any(p.name == TICKET_GUIDES for p in panels_for("desk.ticket.side")):
    register_panel(
        "desk.ticket.side",
        TICKET_GUIDES,
        template="knowledge/_ticket_guides_panel.html",
        context=lambda request, ticket: {"guides": guides_for_ticket(ticket)},
        when=_on_ticket,
        order=35,
    )

if not any(p.name == CALL_GUIDES for p in panels_for("desk.call.new")):
    register_panel(
        "desk.call.new",
        CALL_GUIDES,
        template="knowledge/_call_guides_panel.html",
        when=lambda request, user: can_write(request.user),
        order=10,
    )

if not any(p.name == SIDEBAR_LINK for p in panels_for("desk.sidebar")):
    register_panel(
        "desk.sidebar",
        SIDEBAR_LINK,
        render=_sidebar,
        when=lambda request, user: can_write(request.user),
        order=20,
    )

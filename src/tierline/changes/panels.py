"""The changes' panels on desk pages: a link to the change records in the workspace sidebar
(`desk.sidebar`) and the changes linked to a ticket (`desk.ticket.side`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from tierline.changes import queries
from tierline.core.panels import panels_for, register_panel

SIDEBAR_LINK = "changes.sidebar_link"
TICKET_CHANGES = "changes.ticket_changes"


def _staff(request: HttpRequest, obj: Any) -> bool:
    return bool(getattr(request.user, "is_staff_member", False))


def _sidebar(request: HttpRequest, user: Any) -> SafeString:
    html = render_to_string("changes/_sidebar_link.html", {}, request=request)
    return mark_safe(html.strip())  # noqa: S308 (a template's output, autoescaped)


def _linked(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    return {"changes": queries.changes_linked_to_ticket(ticket.pk)}


if not any(p.name == SIDEBAR_LINK for p in panels_for("desk.sidebar")):
    register_panel("desk.sidebar", SIDEBAR_LINK, render=_sidebar, when=_staff, order=40)
if not any(p.name == TICKET_CHANGES for p in panels_for("desk.ticket.side")):
    register_panel(
        "desk.ticket.side",
        TICKET_CHANGES,
        template="changes/_ticket_panel.html",
        context=_linked,
        when=_staff,
        order=30,
    )

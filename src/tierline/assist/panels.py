"""The assistant on desk pages: its triage suggestions (slot `desk.ticket.side`), a new
ticket's likely duplicates and the possible major incident it is part of (`desk.ticket.main`),
and for leads the link to the possible major incidents (`desk.sidebar`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from tierline.assist import duplicates, services
from tierline.core.panels import panels_for, register_panel
from tierline.desk import permissions as perms

SUGGESTIONS = "assist.suggestions"
DUPLICATES = "assist.duplicates"
INCIDENT = "assist.incident"
SIDEBAR_LINK = "assist.incidents_link"


def _context(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    return {
        "suggestions": services.pending_for(ticket),
        "can_apply": perms.can_work_ticket(request.user, ticket),
    }


def _for_the_desk(request: HttpRequest, ticket: Any) -> bool:
    return perms.is_staff_member(request.user) and perms.can_read_as_technician(
        request.user, ticket
    )


if not any(p.name == SUGGESTIONS for p in panels_for("desk.ticket.side")):
    register_panel(
        "desk.ticket.side",
        SUGGESTIONS,
        template="assist/_suggestions.html",
        context=_context,
        when=_for_the_desk,
        order=5,
    )


def _duplicates_context(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    return {
        "duplicates": duplicates.duplicates_for(ticket, request.user),
        "can_merge": perms.can_work_ticket(request.user, ticket),
    }


def _incident_context(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    return {"incident": duplicates.cluster_for(ticket, request.user)}


def _open_for_the_desk(request: HttpRequest, ticket: Any) -> bool:
    return bool(ticket.is_open) and _for_the_desk(request, ticket)


def _sidebar(request: HttpRequest, user: Any) -> SafeString:
    html = render_to_string("assist/_sidebar_link.html", {}, request=request)
    return mark_safe(html.strip())  # noqa: S308 (a template's output, autoescaped)


def _for_leads(request: HttpRequest, user: Any) -> bool:
    return perms.is_staff_member(request.user) and perms.sees_everything(request.user)


if not any(p.name == DUPLICATES for p in panels_for("desk.ticket.main")):
    register_panel(
        "desk.ticket.main",
        DUPLICATES,
        template="assist/_duplicates.html",
        context=_duplicates_context,
        when=_open_for_the_desk,
        order=5,
    )

if not any(p.name == INCIDENT for p in panels_for("desk.ticket.main")):
    register_panel(
        "desk.ticket.main",
        INCIDENT,
        template="assist/_incident_panel.html",
        context=_incident_context,
        when=_for_the_desk,
        order=6,
    )

if not any(p.name == SIDEBAR_LINK for p in panels_for("desk.sidebar")):
    register_panel("desk.sidebar", SIDEBAR_LINK, render=_sidebar, when=_for_leads, order=25)

"""The assistant's suggestions on the ticket page (slot `desk.ticket.side`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tierline.assist import services
from tierline.core.panels import panels_for, register_panel
from tierline.desk import permissions as perms

SUGGESTIONS = "assist.suggestions"


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

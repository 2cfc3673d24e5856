"""The places on desk pages where other apps show their panels (see core/panels.py).

An app registers a panel for one of these slots from its AppConfig.ready; the desk renders
them with `{% panels SLOT object %}` and never imports the app.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tierline.core.panels import declare_slot, register_panel

TICKET_MAIN = "desk.ticket.main"
TICKET_SIDE = "desk.ticket.side"
REQUESTER_CARD = "desk.requester.card"
SIDEBAR = "desk.sidebar"
CALL_NEW = "desk.call.new"
COMPOSER = "desk.ticket.composer"


def declare_slots() -> None:
    declare_slot(
        TICKET_MAIN, "Ticket page, main column, under the description (object: the ticket)"
    )
    declare_slot(TICKET_SIDE, "Ticket page, side column, after the details (object: the ticket)")
    declare_slot(REQUESTER_CARD, "The requester card on the ticket page (object: the requester)")
    declare_slot(
        CALL_NEW, "The call log's new-call page, under the form (object: the signed-in user)"
    )
    declare_slot(SIDEBAR, "The workspace sidebar, under the queues (object: the signed-in user)")
    declare_slot(
        COMPOSER,
        "Inside the ticket's reply form, under the message, for those who may send a public reply "
        "(object: the ticket; the message is the field #reply-body, the internal-note box "
        "#reply-internal)",
    )


def _requester_tickets(request: HttpRequest, ticket: Any) -> dict[str, Any]:
    from tierline.desk import queries

    tickets, more = queries.requester_recent_tickets(ticket, request.user)
    return {"tickets": tickets, "more": more}


def register_desk_panels() -> None:
    """The desk's own panels, through the same seam as any app's."""
    register_panel(
        TICKET_SIDE,
        "desk.requester_tickets",
        template="desk/_requester_tickets_panel.html",
        context=_requester_tickets,
        order=10,
    )

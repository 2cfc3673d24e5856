"""The mail app's panel on the desk's ticket page: the emails of the ticket, one click from
their original (one query, none for a requester)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from tierline.core.panels import register_panel
from tierline.desk import permissions as perms
from tierline.mail import queries


def _emails_panel(request: HttpRequest, ticket: Any) -> str:
    emails = list(queries.emails_of(ticket))
    if not emails:
        return ""
    return render_to_string("mail/_ticket_emails.html", {"emails": emails}, request=request)


def _outbox_panel(request: HttpRequest, ticket: Any) -> str:
    sent = list(queries.outbox_of(ticket))
    if not sent:
        return ""
    return render_to_string("mail/_ticket_outbox.html", {"sent": sent}, request=request)


def register_panels() -> None:
    register_panel(
        "desk.ticket.side",
        "mail.emails",
        render=_emails_panel,
        when=lambda request, ticket: perms.can_read_as_technician(request.user, ticket),
        order=50,
    )
    register_panel(
        "desk.ticket.side",
        "mail.outbox",
        render=_outbox_panel,
        when=lambda request, ticket: perms.can_read_as_technician(request.user, ticket),
        order=51,
    )

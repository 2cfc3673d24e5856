"""The mail app's panels on the desk's ticket page: the emails of the ticket, one click from
their original (one query, none for a requester); its watchers (add, remove). Opening the page
reads the ticket's notifications through the desk's TicketViewed event (notify.register)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from tierline.core.panels import register_panel
from tierline.desk import permissions as perms
from tierline.mail import queries, watchers


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


def _watchers_panel(request: HttpRequest, ticket: Any) -> str:
    context = {"ticket": ticket, "followers": watchers.followers_of(ticket)}
    return render_to_string("mail/_ticket_watchers.html", context, request=request)


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
    register_panel(
        "desk.ticket.side",
        "mail.watchers",
        render=_watchers_panel,
        when=lambda request, ticket: perms.can_note_ticket(request.user, ticket),
        order=60,
    )

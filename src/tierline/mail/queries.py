"""Reading the mail app's records, shaped for pages: a ticket's emails, one message."""

from __future__ import annotations

from django.db.models import QuerySet

from tierline.desk import permissions as perms
from tierline.desk.models import Ticket
from tierline.mail.models import Inbound, Outbox
from tierline.people.models import User


def emails_of(ticket: Ticket) -> QuerySet[Inbound]:
    """The emails that opened or answered `ticket`, oldest first."""
    return (
        Inbound.objects.filter(ticket=ticket)
        .select_related("raw")
        .only("pk", "sender", "subject", "outcome", "created_at", "raw__size", "ticket_id")
        .order_by("created_at", "pk")
    )


def outbox_of(ticket: Ticket) -> QuerySet[Outbox]:
    """The mail sent (or being sent, or failed) about `ticket`, oldest first."""
    return (
        Outbox.objects.filter(ticket=ticket)
        .only("pk", "to", "subject", "status", "attempts", "last_error", "created_at", "sent_at")
        .order_by("created_at", "pk")
    )


def can_read_email(user: User, inbound: Inbound) -> bool:
    """The original of an email: whoever reads its ticket as a technician; an email on no
    ticket (held, ignored, quarantined) only leads and administrators."""
    if not user.is_authenticated:
        return False
    if inbound.ticket_id is not None and inbound.ticket is not None:
        return perms.can_read_as_technician(user, inbound.ticket)
    return perms.sees_everything(user)

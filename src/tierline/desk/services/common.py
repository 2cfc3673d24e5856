"""Pieces every desk service shares: settings, input checks, the guards of a workable ticket."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from tierline.core.errors import ActionRefused
from tierline.desk import permissions as perms
from tierline.desk.models import Status, Ticket
from tierline.people.models import User


def conf() -> dict:
    """Tierline settings, read at call time so tests and admins can change them."""
    return settings.TIERLINE


def ticket_number(pk: int) -> str:
    return f"{conf()['TICKET_PREFIX']}-{pk:06d}"


def require_text(errors: dict, name: str, value: str, *, max_length: int, label: str) -> str:
    """`value` stripped; an error under `name` if it is empty or longer than `max_length`."""
    value = (value or "").strip()
    if not value:
        errors[name] = f"{label} is required."
    elif len(value) > max_length:
        errors[name] = f"{label} is too long: {len(value):,} characters, at most {max_length:,}."
    return value


def raise_if(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def ensure_workable(user: User, ticket: Ticket) -> None:
    perms.ensure(
        perms.can_work_ticket(user, ticket), "Only the help desk working this ticket can do that."
    )


def ensure_not_finished(ticket: Ticket, doing: str) -> None:
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        raise ActionRefused(
            f"Ticket {ticket.number} is {ticket.get_status_display().lower()}: you can't {doing} it. "
            "Reopen it first."
        )
    if ticket.merged_into_id:
        raise ActionRefused(f"Ticket {ticket.number} was merged into another ticket.")

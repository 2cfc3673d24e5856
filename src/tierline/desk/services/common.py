"""Pieces every desk service shares: settings, input checks, the guards of a workable ticket."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from tierline.core.errors import ActionRefused
from tierline.core.text import normalise_text
from tierline.desk import permissions as perms
from tierline.desk.models import Status, Ticket
from tierline.people.models import User


def conf() -> dict:
    """Tierline settings, read at call time so tests and admins can change them."""
    return settings.TIERLINE


def ticket_number(pk: int) -> str:
    return f"{conf()['TICKET_PREFIX']}-{pk:06d}"


def require_text(
    errors: dict,
    name: str,
    value: str | None,
    *,
    max_length: int,
    label: str,
    multiline: bool = True,
) -> str:
    """`value` as stored (core.text.normalise_text, then stripped); an error under `name` if it
    holds a character nobody types, is empty or is longer than `max_length`."""
    value = optional_text(
        errors, name, value, max_length=max_length, label=label, multiline=multiline
    )
    if not value and name not in errors:
        errors[name] = f"{label} is required."
    return value


def optional_text(
    errors: dict,
    name: str,
    value: str | None,
    *,
    max_length: int,
    label: str,
    multiline: bool = True,
) -> str:
    """As `require_text`, empty allowed: the text as typed (NFC, line breaks as LF), stripped."""
    try:
        value = normalise_text(value, label=label, multiline=multiline).strip()
    except ValidationError as exc:
        errors[name] = exc.messages[0]
        return (value or "").strip()
    if len(value) > max_length:
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

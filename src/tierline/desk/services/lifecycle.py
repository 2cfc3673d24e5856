"""Finishing a ticket and bringing it back: resolve, confirm, close, reopen, spam."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tierline.core import events
from tierline.core.errors import ActionRefused
from tierline.core.history import record
from tierline.desk import permissions as perms
from tierline.desk.events import Closed, Reopened, Resolved
from tierline.desk.models import Message, ResolutionCode, Status, Ticket
from tierline.desk.services.common import (
    conf,
    ensure_not_finished,
    ensure_workable,
    raise_if,
    require_text,
)
from tierline.desk.services.messages import add_message, publish_message_added
from tierline.desk.services.saving import ensure_current
from tierline.desk.services.status import set_status
from tierline.people.models import User
from tierline.people.services import system_user


def _actor_id(by: User | None) -> int | None:
    return by.pk if by is not None else None


@transaction.atomic
def resolve(
    *,
    ticket: Ticket,
    by: User,
    resolution_code: ResolutionCode | str | None,
    body: str,
    time_spent_minutes: int = 0,
    expected_version: int | None = None,
) -> Ticket:
    """Mark the ticket resolved with a code and a note the requester reads.

    From a page loaded at `expected_version`, refused (StaleEdit) if the ticket changed since.
    """
    ensure_current(ticket, expected_version)
    ensure_workable(by, ticket)
    ensure_not_finished(ticket, "resolve")
    errors: dict[str, str] = {}
    if isinstance(resolution_code, str):
        resolution_code = ResolutionCode.objects.filter(
            code=resolution_code, is_active=True
        ).first()
        if resolution_code is None:
            errors["resolution_code"] = "Unknown resolution code."
    elif resolution_code is None:
        errors["resolution_code"] = "Choose a resolution code."
    body = require_text(errors, "body", body, max_length=50000, label="A resolution note")
    raise_if(errors)
    open_children = ticket.children.filter(is_open=True).values_list("number", flat=True)
    if open_children:
        raise ActionRefused(
            "Child tickets are still open: " + ", ".join(open_children) + ". Resolve them first."
        )
    add_message(
        ticket=ticket, by=by, body=body, internal=False, time_spent_minutes=time_spent_minutes
    )
    ticket.refresh_from_db()
    ticket.resolution_code = resolution_code
    ticket.resolution_note = body
    ticket.resolved_at = timezone.now()
    set_status(
        ticket,
        by=by,
        status=Status.RESOLVED,
        fields=["resolution_code", "resolution_note", "resolved_at"],
        action="resolved",
        summary=str(resolution_code),
    )
    events.publish(
        Resolved(ticket_id=ticket.pk, actor_id=by.pk, resolution_code=resolution_code.code)
    )
    return ticket


def close_ticket(
    ticket: Ticket,
    *,
    by: User | None,
    how: str,
    action: str,
    summary: str = "",
    fields: Iterable[str] = (),
) -> None:
    """The one way to closed, for every service that closes: the time, the status (one entry,
    one StatusChanged) with `fields` in the same UPDATE, then Closed."""
    if ticket.status != Status.CLOSED:
        ticket.closed_at = timezone.now()
    if not set_status(
        ticket,
        by=by,
        status=Status.CLOSED,
        fields=["closed_at", *fields],
        action=action,
        summary=summary,
    ):
        # Already closed (spam found on a closed ticket): still one entry saying what happened.
        record(ticket, by, action, summary=summary)
    events.publish(Closed(ticket_id=ticket.pk, actor_id=_actor_id(by), how=how))


@transaction.atomic
def confirm_resolution(*, ticket: Ticket, by: User) -> Ticket:
    """The requester says the fix works: the ticket is closed."""
    perms.ensure(by.pk == ticket.requester_id or perms.can_work_ticket(by, ticket))
    if ticket.status != Status.RESOLVED:
        raise ActionRefused("Only a resolved ticket can be confirmed.")
    close_ticket(ticket, by=by, how="confirmed", action="confirmed")
    return ticket


def reopen_deadline(ticket: Ticket) -> datetime | None:
    if ticket.resolved_at is None:
        return None
    return ticket.resolved_at + timedelta(days=conf()["REOPEN_DAYS"])


def can_requester_reopen(ticket: Ticket, now: datetime | None = None) -> bool:
    deadline = reopen_deadline(ticket)
    return (
        ticket.status in (Status.RESOLVED, Status.CLOSED)
        and not ticket.is_spam
        and not ticket.merged_into_id
        and deadline is not None
        and (now or timezone.now()) <= deadline
    )


@transaction.atomic
def reopen(*, ticket: Ticket, by: User, reason: str, expected_version: int | None = None) -> Ticket:
    """Back to open: by the requester within the reopen window, by the desk at any time.

    From a page loaded at `expected_version`, refused (StaleEdit) if the ticket changed since.
    """
    ensure_current(ticket, expected_version)
    perms.ensure(perms.can_read_ticket(by, ticket))
    staff = perms.can_work_ticket(by, ticket)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise ActionRefused("Only a resolved or closed ticket can be reopened.")
    if not staff:
        perms.ensure(by.pk == ticket.requester_id, "Only the requester can reopen this ticket.")
        if not can_requester_reopen(ticket):
            raise ActionRefused(
                f"This ticket was resolved more than {conf()['REOPEN_DAYS']} days ago and can't be "
                "reopened. Please open a new request."
            )
    errors: dict[str, str] = {}
    reason = require_text(errors, "reason", reason, max_length=50000, label="A reason")
    raise_if(errors)
    old = ticket.status
    ticket.resolved_at = ticket.closed_at = None
    set_status(
        ticket,
        by=by,
        status=Status.OPEN,
        fields=["resolved_at", "closed_at"],
        action="reopened",
        summary=reason,
    )
    message = Message.objects.create(ticket=ticket, author=by, body=reason, internal=False)
    events.publish(Reopened(ticket_id=ticket.pk, actor_id=by.pk, old_status=str(old)))
    publish_message_added(message)
    return ticket


@transaction.atomic
def close(*, ticket: Ticket, by: User | None, reason: str = "") -> Ticket:
    """Close a resolved ticket (the auto-close job) without the requester's confirmation."""
    if by is not None:
        ensure_workable(by, ticket)
    if ticket.status != Status.RESOLVED:
        raise ActionRefused("Only a resolved ticket can be closed.")
    close_ticket(ticket, by=by, how="closed", action="closed", summary=reason)
    return ticket


def close_resolved_tickets(*, now: datetime | None = None) -> int:
    """Close tickets resolved more than AUTOCLOSE_DAYS ago, as the scheduler's system user.

    Safe to run twice."""
    cutoff = (now or timezone.now()) - timedelta(days=conf()["AUTOCLOSE_DAYS"])
    ids = list(
        Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    if not ids:
        return 0
    scheduler = system_user("scheduler")
    closed = 0
    for pk in ids:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=pk)
            if ticket.status == Status.RESOLVED:
                close(
                    ticket=ticket,
                    by=scheduler,
                    reason=f"No answer within {conf()['AUTOCLOSE_DAYS']} days",
                )
                closed += 1
    return closed


@transaction.atomic
def mark_spam(*, ticket: Ticket, by: User) -> Ticket:
    """Close the ticket as spam (kept, with its trail, out of every queue)."""
    ensure_workable(by, ticket)
    if ticket.is_spam:
        return ticket
    ticket.is_spam = True
    close_ticket(ticket, by=by, how="spam", action="spam", fields=["is_spam"])
    return ticket

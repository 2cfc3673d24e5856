"""Every change of state of a ticket, work order or call.

Each function is one transaction, takes keyword arguments, checks permission and state, writes
its history entries, and is called alike by the web views, the API and background jobs.
"""

from __future__ import annotations

import math
import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from tierline.core.errors import ActionRefused, StaleEdit
from tierline.core.history import record, record_changes
from tierline.core.inputs import DATE_RANGE_MESSAGE, date_in_range
from tierline.core.sanitise import clean_html, clean_text
from tierline.desk import permissions as perms
from tierline.desk.models import (
    OPEN_STATUSES,
    Attachment,
    Call,
    Category,
    Channel,
    Escalation,
    Level,
    Message,
    Priority,
    PriorityRule,
    ResolutionCode,
    Status,
    Ticket,
    WorkOrder,
)
from tierline.people.models import Team, User


def conf() -> dict:
    """Tierline settings, read at call time so tests and admins can change them."""
    return settings.TIERLINE


# The matrix used when an administrator has not configured a cell.
DEFAULT_MATRIX: dict[tuple[int, int], int] = {
    (Level.HIGH, Level.HIGH): Priority.CRITICAL,
    (Level.HIGH, Level.MEDIUM): Priority.HIGH,
    (Level.HIGH, Level.LOW): Priority.MEDIUM,
    (Level.MEDIUM, Level.HIGH): Priority.HIGH,
    (Level.MEDIUM, Level.MEDIUM): Priority.MEDIUM,
    (Level.MEDIUM, Level.LOW): Priority.LOW,
    (Level.LOW, Level.HIGH): Priority.MEDIUM,
    (Level.LOW, Level.MEDIUM): Priority.LOW,
    (Level.LOW, Level.LOW): Priority.LOW,
}

# Which status may follow which when set directly. Resolving goes through resolve(), closing
# through confirm_resolution() or the auto-close job, reopening through reopen().
TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {
        Status.OPEN,
        Status.IN_PROGRESS,
        Status.WAITING_REQUESTER,
        Status.WAITING_THIRD_PARTY,
    },
    Status.OPEN: {Status.IN_PROGRESS, Status.WAITING_REQUESTER, Status.WAITING_THIRD_PARTY},
    Status.IN_PROGRESS: {Status.OPEN, Status.WAITING_REQUESTER, Status.WAITING_THIRD_PARTY},
    Status.WAITING_REQUESTER: {Status.OPEN, Status.IN_PROGRESS, Status.WAITING_THIRD_PARTY},
    Status.WAITING_THIRD_PARTY: {Status.OPEN, Status.IN_PROGRESS, Status.WAITING_REQUESTER},
    Status.RESOLVED: set(),
    Status.CLOSED: set(),
}


# --- shared pieces --------------------------------------------------------------------------


def ticket_number(pk: int) -> str:
    return f"{conf()['TICKET_PREFIX']}-{pk:06d}"


def priority_for(impact: int, urgency: int) -> int:
    """The matrix cell for impact × urgency: configured in the admin, else the default."""
    rule = PriorityRule.objects.filter(impact=impact, urgency=urgency).values_list(
        "priority", flat=True
    )
    return rule.first() or DEFAULT_MATRIX[(Level(impact), Level(urgency))]


def default_team_for(tier: int) -> Team:
    team = Team.objects.filter(tier=tier).order_by("-is_tier_default", "name").first()
    if team is None:
        raise ActionRefused(f"There is no Tier {tier} team to send this ticket to.")
    return team


def _route_new_ticket(
    team_id: int | None, impact: int, urgency: int
) -> tuple[Team, int, int | None]:
    """The team a new ticket goes to (the given one, else Tier 1's default), its priority from
    the matrix and, on PostgreSQL, the id it will have.

    One query instead of three: on PostgreSQL each round trip costs more than the SQL it
    carries. Written as SQL because building it through the ORM (a subquery and a raw
    expression) took twice as long as running it, on every ticket opened."""
    q = connection.ops.quote_name
    fields = Team._meta.concrete_fields
    columns = ", ".join(f"t.{q(f.column)}" for f in fields)
    rule, ticket = q(PriorityRule._meta.db_table), Ticket._meta.db_table
    # Taking the id first lets the ticket be inserted with its number: no UPDATE after it.
    next_id = (
        f", nextval(pg_get_serial_sequence('{ticket}', 'id'))"
        if connection.vendor == "postgresql"
        else ", NULL"
    )
    where, params = ("t.id = %s", [team_id]) if team_id is not None else ("t.tier = 1", [])
    # Only names from the models' metadata go into the text; values are parameters.
    sql = (
        f"SELECT {columns}, (SELECT r.priority FROM {rule} r"  # noqa: S608
        f" WHERE r.impact = %s AND r.urgency = %s LIMIT 1){next_id}"
        f" FROM {q(Team._meta.db_table)} t WHERE {where}"
        f" ORDER BY t.is_tier_default DESC, t.name LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [impact, urgency, *params])
        row = cursor.fetchone()
    if row is None and team_id is not None:
        raise ActionRefused("The team this ticket was sent to no longer exists.")
    if row is None:
        raise ActionRefused("There is no Tier 1 team to send this ticket to.")
    team = Team.from_db(connection.alias, [f.attname for f in fields], row[: len(fields)])
    matrix_priority, next_id_value = row[len(fields) :]
    priority = matrix_priority or DEFAULT_MATRIX[(Level(impact), Level(urgency))]
    return team, priority, next_id_value


def _require_text(errors: dict, name: str, value: str, *, max_length: int, label: str) -> str:
    value = (value or "").strip()
    if not value:
        errors[name] = f"{label} is required."
    elif len(value) > max_length:
        errors[name] = f"{label} is too long: {len(value):,} characters, at most {max_length:,}."
    return value


def _raise_if(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _save(ticket: Ticket, fields: Iterable[str], *, expected_version: int | None = None) -> None:
    """Write `fields`, bump the version, refuse if someone else saved since `expected_version`."""
    now = timezone.now()
    ticket.updated_at = now
    ticket.is_open = ticket.status in OPEN_STATUSES
    values = {name: getattr(ticket, name) for name in {*fields, "updated_at", "is_open"}}
    version = ticket.version if expected_version is None else expected_version
    changed = Ticket.objects.filter(pk=ticket.pk, version=version).update(
        version=F("version") + 1, **values
    )
    if not changed:
        raise StaleEdit()
    ticket.version = version + 1


def _ensure_workable(user: User, ticket: Ticket) -> None:
    perms.ensure(
        perms.can_work_ticket(user, ticket), "Only the help desk working this ticket can do that."
    )


def _ensure_not_finished(ticket: Ticket, doing: str) -> None:
    if ticket.status in (Status.RESOLVED, Status.CLOSED):
        raise ActionRefused(
            f"Ticket {ticket.number} is {ticket.get_status_display().lower()}: you can't {doing} it. "
            "Reopen it first."
        )
    if ticket.merged_into_id:
        raise ActionRefused(f"Ticket {ticket.number} was merged into another ticket.")


# --- attachments ----------------------------------------------------------------------------


def validate_upload(upload: UploadedFile) -> None:
    """Refuse files over the size limit and types that could run in a browser or on a PC."""
    name = clean_text(PurePosixPath(upload.name or "file").name)[:200] or "file"
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in conf()["ATTACHMENT_REFUSED_EXTENSIONS"]:
        raise ValidationError(
            {"attachments": f"“{name}”: files of type {suffix} are not accepted."}
        )
    limit = conf()["ATTACHMENT_MAX_BYTES"]
    if upload.size > limit:
        raise ValidationError(
            {
                "attachments": f"“{name}” is {upload.size / 2**20:.1f} MB; "
                f"the limit is {limit / 2**20:.0f} MB."
            }
        )


def _attach(
    ticket: Ticket, by: User | None, uploads: Sequence[UploadedFile], message=None
) -> list[Attachment]:
    for upload in uploads:
        validate_upload(upload)
    saved = []
    for upload in uploads:
        name = clean_text(PurePosixPath(upload.name or "file").name)[:200] or "file"
        attachment = Attachment(
            ticket=ticket,
            message=message,
            name=name,
            size=upload.size,
            content_type=(mimetypes.guess_type(name)[0] or "application/octet-stream")[:100],
            uploaded_by=by,
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()
        record(ticket, by, "attached", field="attachment", new=name)
        saved.append(attachment)
    return saved


@transaction.atomic
def add_attachments(
    *, ticket: Ticket, by: User, uploads: Sequence[UploadedFile]
) -> list[Attachment]:
    perms.ensure(perms.can_reply_ticket(by, ticket))
    if ticket.status == Status.CLOSED:
        raise ActionRefused("This ticket is closed: files can no longer be added.")
    return _attach(ticket, by, uploads)


# --- opening and changing tickets ---------------------------------------------------------


@transaction.atomic
def open_ticket(
    *,
    requester: User,
    subject: str,
    description: str,
    by: User | None = None,
    category: Category | None = None,
    impact: int = Level.MEDIUM,
    urgency: int = Level.MEDIUM,
    channel: str = Channel.PORTAL,
    team: Team | None = None,
    parent: Ticket | None = None,
    uploads: Sequence[UploadedFile] = (),
    created_at: datetime | None = None,
) -> Ticket:
    """Open a ticket: the ticket, its number, its first history entry, its files."""
    errors: dict[str, str] = {}
    subject = _require_text(errors, "subject", clean_text(subject), max_length=200, label="Subject")
    description = _require_text(
        errors, "description", clean_html(description), max_length=20000, label="Description"
    )
    if impact not in Level.values:
        errors["impact"] = "Choose an impact: 1 (high), 2 (medium) or 3 (low)."
    if urgency not in Level.values:
        errors["urgency"] = "Choose an urgency: 1 (high), 2 (medium) or 3 (low)."
    if channel not in Channel.values:
        errors["channel"] = f"Unknown channel “{channel}”."
    if category is not None and not category.is_active:
        errors["category"] = "That category is no longer in use."
    _raise_if(errors)
    for upload in uploads:
        validate_upload(upload)

    # The given team, else the category's, else (None) Tier 1's default.
    team_id = team.pk if team else (category.default_team_id if category else None)
    team, priority, next_id = _route_new_ticket(team_id, impact, urgency)
    now = created_at or timezone.now()
    ticket = Ticket.objects.create(
        pk=next_id,
        number=ticket_number(next_id) if next_id is not None else None,
        subject=subject,
        description=description,
        requester=requester,
        category=category,
        impact=impact,
        urgency=urgency,
        priority=priority,
        channel=channel,
        tier=team.tier,
        team=team,
        parent=parent,
        created_at=now,
        updated_at=now,
    )
    if next_id is None:
        ticket.number = ticket_number(ticket.pk)
        Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
    record(ticket, by or requester, "opened", summary=f"via {ticket.get_channel_display()}", at=now)
    _attach(ticket, by or requester, uploads)
    return ticket


@transaction.atomic
def change_fields(
    *,
    ticket: Ticket,
    by: User,
    expected_version: int | None = None,
    **changes: Any,
) -> Ticket:
    """Change subject, category, impact or urgency; priority follows the matrix."""
    _ensure_workable(by, ticket)
    allowed = {"subject", "category", "impact", "urgency"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field can't be changed here."))
    errors: dict[str, str] = {}
    if "subject" in changes:
        changes["subject"] = _require_text(
            errors, "subject", clean_text(changes["subject"]), max_length=200, label="Subject"
        )
    for level in ("impact", "urgency"):
        if level in changes and changes[level] not in Level.values:
            errors[level] = f"Choose a valid {level}."
    _raise_if(errors)
    old = {name: getattr(ticket, name) for name in (*changes, "priority")}
    for name, value in changes.items():
        setattr(ticket, name, value)
    ticket.priority = priority_for(ticket.impact, ticket.urgency)
    _save(ticket, [*changes, "priority"], expected_version=expected_version)
    record_changes(
        ticket,
        by,
        [(name, old[name], getattr(ticket, name)) for name in (*changes, "priority")],
    )
    return ticket


@transaction.atomic
def change_status(
    *, ticket: Ticket, by: User, status: str, expected_version: int | None = None
) -> Ticket:
    _ensure_workable(by, ticket)
    if status not in Status.values:
        raise ValidationError({"status": f"Unknown status “{status}”."})
    if status == ticket.status:
        return ticket
    if status not in TRANSITIONS[ticket.status]:
        hint = ""
        if status == Status.RESOLVED:
            hint = " Use Resolve, with a resolution code and a note."
        elif ticket.status in (Status.RESOLVED, Status.CLOSED):
            hint = " Reopen it first."
        raise ActionRefused(
            f"A ticket can't go from “{ticket.get_status_display()}” to "
            f"“{Status(status).label}”.{hint}"
        )
    old = ticket.status
    ticket.status = status
    _save(ticket, ["status"], expected_version=expected_version)
    record(ticket, by, "status", field="status", old=Status(old).label, new=Status(status).label)
    return ticket


@transaction.atomic
def assign(*, ticket: Ticket, by: User, assignee: User | None) -> Ticket:
    """Give the ticket to a technician of its team (or to nobody)."""
    _ensure_workable(by, ticket)
    _ensure_not_finished(ticket, "assign")
    if assignee is not None:
        if not assignee.is_staff_member:
            raise ValidationError({"assignee": f"{assignee} is not on the help desk."})
        if not (assignee.is_lead or ticket.team_id in perms.team_ids(assignee)):
            raise ValidationError({"assignee": f"{assignee} is not in {ticket.team}."})
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    old = ticket.assignee
    ticket.assignee = assignee
    fields = ["assignee"]
    if ticket.status == Status.NEW and assignee is not None:
        ticket.status = Status.OPEN
        fields.append("status")
        record(ticket, by, "status", field="status", old=Status.NEW.label, new=Status.OPEN.label)
    _save(ticket, fields)
    record(ticket, by, "assigned", field="assignee", old=old, new=assignee)
    return ticket


def take(*, ticket: Ticket, by: User) -> Ticket:
    """Assign to oneself."""
    return assign(ticket=ticket, by=by, assignee=by)


@transaction.atomic
def add_message(
    *,
    ticket: Ticket,
    by: User,
    body: str,
    internal: bool = False,
    time_spent_minutes: int = 0,
    channel: str = Channel.PORTAL,
    uploads: Sequence[UploadedFile] = (),
) -> Message:
    """A public reply (the requester sees it) or an internal note (only the desk does)."""
    staff = perms.can_work_ticket(by, ticket)
    if internal:
        perms.ensure(
            perms.can_note_ticket(by, ticket), "Only the help desk can write internal notes."
        )
    else:
        perms.ensure(
            perms.can_reply_ticket(by, ticket),
            "Only the help desk working this ticket replies to its requester.",
        )
    if ticket.status == Status.CLOSED:
        raise ActionRefused(
            "This ticket is closed. Reopen it, or open a new request if it's a new problem."
        )
    errors: dict[str, str] = {}
    body = _require_text(errors, "body", clean_html(body), max_length=50000, label="Message")
    if not isinstance(time_spent_minutes, int) or not 0 <= time_spent_minutes <= 24 * 60:
        errors["time_spent_minutes"] = "Time spent must be between 0 and 1440 minutes."
    if time_spent_minutes and not (staff or internal):
        errors["time_spent_minutes"] = "Only the help desk records time spent."
    _raise_if(errors)

    message = Message.objects.create(
        ticket=ticket,
        author=by,
        body=body,
        internal=internal,
        channel=channel,
        time_spent_minutes=time_spent_minutes,
    )
    _attach(ticket, by, uploads, message=message)
    fields = ["time_spent_minutes"]
    ticket.time_spent_minutes += time_spent_minutes
    if staff and not internal and by.pk != ticket.requester_id:
        if ticket.first_response_at is None:
            ticket.first_response_at = message.created_at
            fields.append("first_response_at")
        if ticket.status == Status.NEW:
            ticket.status = Status.OPEN
            fields.append("status")
            record(
                ticket, by, "status", field="status", old=Status.NEW.label, new=Status.OPEN.label
            )
    elif not staff and not internal and ticket.status == Status.WAITING_REQUESTER:
        ticket.status = Status.OPEN
        fields.append("status")
        record(
            ticket,
            by,
            "status",
            field="status",
            old=Status.WAITING_REQUESTER.label,
            new=Status.OPEN.label,
        )
    _save(ticket, fields)
    record(
        ticket,
        by,
        "noted" if internal else "replied",
        summary=f"{time_spent_minutes} min" if time_spent_minutes else "",
    )
    return message


# --- moving between tiers -------------------------------------------------------------------


@transaction.atomic
def escalate(*, ticket: Ticket, by: User, summary: str, team: Team | None = None) -> Ticket:
    """Send the ticket up to the next tier (or to a chosen team at the same or a higher tier).

    The summary of what was already tried is required: the next tier must not start from zero.
    """
    _ensure_workable(by, ticket)
    _ensure_not_finished(ticket, "escalate")
    errors: dict[str, str] = {}
    summary = _require_text(
        errors,
        "summary",
        clean_html(summary),
        max_length=10000,
        label="A summary of what was tried",
    )
    _raise_if(errors)
    if team is None:
        if ticket.tier >= 3:
            raise ActionRefused("This ticket is already at Tier 3, the highest tier.")
        team = default_team_for(ticket.tier + 1)
    elif team.pk == ticket.team_id:
        raise ValidationError({"team": f"The ticket is already with {team}."})
    elif team.tier < ticket.tier:
        raise ValidationError({"team": f"{team} is a lower tier: use de-escalate."})
    return _move(
        ticket=ticket, by=by, team=team, summary=summary, direction=Escalation.Direction.UP
    )


@transaction.atomic
def de_escalate(*, ticket: Ticket, by: User, summary: str, team: Team | None = None) -> Ticket:
    """Hand the ticket back down a tier, with a note of why."""
    _ensure_workable(by, ticket)
    _ensure_not_finished(ticket, "de-escalate")
    errors: dict[str, str] = {}
    summary = _require_text(
        errors, "summary", clean_html(summary), max_length=10000, label="A reason"
    )
    _raise_if(errors)
    if team is None:
        if ticket.tier <= 1:
            raise ActionRefused("This ticket is already at Tier 1.")
        team = default_team_for(ticket.tier - 1)
    elif team.tier >= ticket.tier:
        raise ValidationError({"team": f"{team} is not a lower tier: use escalate."})
    return _move(
        ticket=ticket, by=by, team=team, summary=summary, direction=Escalation.Direction.DOWN
    )


def _move(*, ticket: Ticket, by: User, team: Team, summary: str, direction: str) -> Ticket:
    old_team, old_tier, old_assignee = ticket.team, ticket.tier, ticket.assignee
    Escalation.objects.create(
        ticket=ticket,
        direction=direction,
        from_tier=old_tier,
        to_tier=team.tier,
        from_team=old_team,
        to_team=team,
        from_assignee=old_assignee,
        by=by,
        summary=summary,
    )
    ticket.team, ticket.tier, ticket.assignee = team, team.tier, None
    fields = ["team", "tier", "assignee"]
    if direction == Escalation.Direction.UP:
        ticket.escalation_count += 1
        fields.append("escalation_count")
    if ticket.status == Status.NEW:
        ticket.status = Status.OPEN
        fields.append("status")
    _save(ticket, fields)
    action = "escalated" if direction == Escalation.Direction.UP else "de-escalated"
    record(ticket, by, action, field="team", old=old_team, new=team, summary=summary)
    if old_assignee is not None:
        record(ticket, by, "assigned", field="assignee", old=old_assignee, new=None)
    return ticket


# --- finishing ------------------------------------------------------------------------------


@transaction.atomic
def resolve(
    *,
    ticket: Ticket,
    by: User,
    resolution_code: ResolutionCode | str | None,
    body: str,
    time_spent_minutes: int = 0,
) -> Ticket:
    """Mark the ticket resolved with a code and a note the requester reads."""
    _ensure_workable(by, ticket)
    _ensure_not_finished(ticket, "resolve")
    errors: dict[str, str] = {}
    if isinstance(resolution_code, str):
        resolution_code = ResolutionCode.objects.filter(
            code=resolution_code, is_active=True
        ).first()
        if resolution_code is None:
            errors["resolution_code"] = "Unknown resolution code."
    elif resolution_code is None:
        errors["resolution_code"] = "Choose a resolution code."
    body = _require_text(
        errors, "body", clean_html(body), max_length=50000, label="A resolution note"
    )
    _raise_if(errors)
    open_children = ticket.children.filter(is_open=True).values_list("number", flat=True)
    if open_children:
        raise ActionRefused(
            "Child tickets are still open: " + ", ".join(open_children) + ". Resolve them first."
        )
    add_message(
        ticket=ticket, by=by, body=body, internal=False, time_spent_minutes=time_spent_minutes
    )
    ticket.refresh_from_db()
    old = ticket.status
    ticket.status = Status.RESOLVED
    ticket.resolution_code = resolution_code
    ticket.resolution_note = body
    ticket.resolved_at = timezone.now()
    _save(ticket, ["status", "resolution_code", "resolution_note", "resolved_at"])
    record(
        ticket,
        by,
        "resolved",
        field="status",
        old=Status(old).label,
        new=Status.RESOLVED.label,
        summary=str(resolution_code),
    )
    return ticket


@transaction.atomic
def confirm_resolution(*, ticket: Ticket, by: User) -> Ticket:
    """The requester says the fix works: the ticket is closed."""
    perms.ensure(by.pk == ticket.requester_id or perms.can_work_ticket(by, ticket))
    if ticket.status != Status.RESOLVED:
        raise ActionRefused("Only a resolved ticket can be confirmed.")
    ticket.status = Status.CLOSED
    ticket.closed_at = timezone.now()
    _save(ticket, ["status", "closed_at"])
    record(
        ticket, by, "confirmed", field="status", old=Status.RESOLVED.label, new=Status.CLOSED.label
    )
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
def reopen(*, ticket: Ticket, by: User, reason: str) -> Ticket:
    """Back to open: by the requester within the reopen window, by the desk at any time."""
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
    reason = _require_text(errors, "reason", clean_html(reason), max_length=50000, label="A reason")
    _raise_if(errors)
    old = ticket.status
    ticket.status = Status.OPEN
    ticket.resolved_at = ticket.closed_at = None
    _save(ticket, ["status", "resolved_at", "closed_at"])
    Message.objects.create(ticket=ticket, author=by, body=reason, internal=False)
    record(
        ticket,
        by,
        "reopened",
        field="status",
        old=Status(old).label,
        new=Status.OPEN.label,
        summary=reason,
    )
    return ticket


@transaction.atomic
def close(*, ticket: Ticket, by: User | None, reason: str = "") -> Ticket:
    """Close a resolved ticket (the auto-close job) without the requester's confirmation."""
    if by is not None:
        _ensure_workable(by, ticket)
    if ticket.status != Status.RESOLVED:
        raise ActionRefused("Only a resolved ticket can be closed.")
    ticket.status = Status.CLOSED
    ticket.closed_at = timezone.now()
    _save(ticket, ["status", "closed_at"])
    record(
        ticket,
        by,
        "closed",
        field="status",
        old=Status.RESOLVED.label,
        new=Status.CLOSED.label,
        summary=reason,
    )
    return ticket


def close_resolved_tickets(*, now: datetime | None = None) -> int:
    """Close tickets resolved more than AUTOCLOSE_DAYS ago. Safe to run twice."""
    cutoff = (now or timezone.now()) - timedelta(days=conf()["AUTOCLOSE_DAYS"])
    ids = list(
        Ticket.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    closed = 0
    for pk in ids:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=pk)
            if ticket.status == Status.RESOLVED:
                close(
                    ticket=ticket,
                    by=None,
                    reason=f"No answer within {conf()['AUTOCLOSE_DAYS']} days",
                )
                closed += 1
    return closed


# --- merging, linking, splitting, spam ------------------------------------------------------


@transaction.atomic
def merge(*, ticket: Ticket, into: Ticket, by: User) -> Ticket:
    """Close `ticket` as a duplicate of `into`; its requester can follow `into`."""
    _ensure_workable(by, ticket)
    perms.ensure(perms.can_work_ticket(by, into), "You can't work the ticket you are merging into.")
    if ticket.pk == into.pk:
        raise ValidationError({"into": "A ticket can't be merged into itself."})
    if into.merged_into_id or into.status == Status.CLOSED:
        raise ValidationError({"into": f"{into.number} is closed; merge into an open ticket."})
    _ensure_not_finished(ticket, "merge")
    old = ticket.status
    ticket.merged_into = into
    ticket.status = Status.CLOSED
    ticket.closed_at = timezone.now()
    _save(ticket, ["merged_into", "status", "closed_at"])
    if ticket.requester_id != into.requester_id:
        into.shared_with.add(ticket.requester_id)
    Message.objects.create(
        ticket=ticket,
        author=by,
        internal=False,
        body=f"This request is handled together with {into.number}; follow it there.",
    )
    record(
        ticket,
        by,
        "merged",
        field="status",
        old=Status(old).label,
        new=Status.CLOSED.label,
        summary=f"into {into.number}",
    )
    record(into, by, "merged in", summary=f"{ticket.number}: {ticket.subject}")
    return ticket


@transaction.atomic
def link(*, ticket: Ticket, other: Ticket, by: User) -> None:
    _ensure_workable(by, ticket)
    perms.ensure(perms.can_read_ticket(by, other))
    if ticket.pk == other.pk:
        raise ValidationError({"other": "A ticket can't be linked to itself."})
    if ticket.related.filter(pk=other.pk).exists():
        return
    ticket.related.add(other)
    record(ticket, by, "linked", field="related", new=other.number)
    record(other, by, "linked", field="related", new=ticket.number)


@transaction.atomic
def unlink(*, ticket: Ticket, other: Ticket, by: User) -> None:
    _ensure_workable(by, ticket)
    ticket.related.remove(other)
    record(ticket, by, "unlinked", field="related", old=other.number)
    record(other, by, "unlinked", field="related", old=ticket.number)


@transaction.atomic
def create_child(
    *, parent: Ticket, by: User, subject: str, description: str, team: Team | None = None
) -> Ticket:
    """Split work off into a child ticket; the parent can't be resolved while it is open."""
    _ensure_workable(by, parent)
    _ensure_not_finished(parent, "split")
    child = open_ticket(
        requester=parent.requester,
        by=by,
        subject=subject,
        description=description,
        category=parent.category,
        impact=parent.impact,
        urgency=parent.urgency,
        channel=parent.channel,
        team=team or parent.team,
        parent=parent,
    )
    record(parent, by, "child added", summary=f"{child.number}: {child.subject}")
    return child


@transaction.atomic
def mark_spam(*, ticket: Ticket, by: User) -> Ticket:
    _ensure_workable(by, ticket)
    if ticket.is_spam:
        return ticket
    old = ticket.status
    ticket.is_spam = True
    ticket.status = Status.CLOSED
    ticket.closed_at = timezone.now()
    _save(ticket, ["is_spam", "status", "closed_at"])
    record(ticket, by, "spam", field="status", old=Status(old).label, new=Status.CLOSED.label)
    return ticket


# --- bulk -----------------------------------------------------------------------------------


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def _bulk(tickets: Iterable[Ticket], action) -> BulkResult:
    result = BulkResult()
    for ticket in tickets:
        try:
            action(ticket)
        except (ValidationError, perms.PermissionDenied) as exc:
            messages = getattr(exc, "messages", None) or [str(exc)]
            result.refused[ticket.number] = " ".join(messages)
        else:
            result.done.append(ticket.number)
    return result


def bulk_assign(*, tickets: Iterable[Ticket], by: User, assignee: User | None) -> BulkResult:
    """Assign each ticket on its own; one refused ticket does not stop the others."""
    return _bulk(tickets, lambda t: assign(ticket=t, by=by, assignee=assignee))


def bulk_change_status(*, tickets: Iterable[Ticket], by: User, status: str) -> BulkResult:
    return _bulk(tickets, lambda t: change_status(ticket=t, by=by, status=status))


# --- work orders ----------------------------------------------------------------------------

_WORK_ORDER_FIELDS = (
    "location",
    "desk",
    "device",
    "scheduled_start",
    "scheduled_end",
    "technician",
    "instructions",
    "checklist",
)


def _clean_checklist(items: Any) -> list[dict]:
    if items is None:
        return []
    cleaned = []
    for item in items:
        if isinstance(item, str):
            item = {"text": item, "done": False}
        if not isinstance(item, dict) or not str(item.get("text", "")).strip():
            raise ValidationError({"checklist": "Each checklist item needs a text."})
        cleaned.append(
            {"text": clean_text(str(item["text"]))[:200], "done": bool(item.get("done"))}
        )
    if len(cleaned) > 50:
        raise ValidationError({"checklist": "At most 50 checklist items."})
    return cleaned


def _validate_work_order(wo: WorkOrder) -> None:
    errors: dict[str, str] = {}
    if wo.scheduled_start is None:
        errors["scheduled_start"] = "When should the visit start?"
    if wo.scheduled_end is None:
        errors["scheduled_end"] = "When should the visit end?"
    elif wo.scheduled_start and wo.scheduled_end < wo.scheduled_start:
        errors["scheduled_end"] = "The visit can't end before it starts."
    for name in ("scheduled_start", "scheduled_end"):
        when = getattr(wo, name)
        if when is not None and not date_in_range(when.date()):
            errors[name] = DATE_RANGE_MESSAGE
    if wo.technician_id is None:
        errors["technician"] = "Choose the technician who visits."
    elif not wo.technician.is_staff_member:
        errors["technician"] = f"{wo.technician} is not on the help desk."
    for name, limit in (("desk", 60), ("device", 120)):
        if len(getattr(wo, name) or "") > limit:
            errors[name] = f"At most {limit} characters."
    _raise_if(errors)


@transaction.atomic
def create_work_order(
    *,
    ticket: Ticket,
    by: User,
    technician: User,
    scheduled_start: datetime,
    scheduled_end: datetime,
    location=None,
    desk: str = "",
    device: str = "",
    instructions: str = "",
    checklist: Any = None,
) -> WorkOrder:
    """Decide the ticket needs a visit: Tier 2 and above only."""
    _ensure_workable(by, ticket)
    perms.ensure(perms.can_open_work_order(by), "Work orders are opened by Tier 2 or above.")
    _ensure_not_finished(ticket, "add a work order to")
    requester = ticket.requester
    wo = WorkOrder(
        ticket=ticket,
        technician=technician,
        scheduled_start=scheduled_start,
        scheduled_end=scheduled_end,
        location=location or requester.location,
        desk=clean_text(desk or requester.desk),
        device=clean_text(device),
        instructions=clean_html(instructions),
        checklist=_clean_checklist(checklist),
        created_by=by,
    )
    _validate_work_order(wo)
    wo.save()
    wo.number = f"WO-{wo.pk:06d}"
    WorkOrder.objects.filter(pk=wo.pk).update(number=wo.number)
    record(wo, by, "created", summary=f"for {ticket.number}")
    record(
        ticket,
        by,
        "work order",
        summary=f"{wo.number}: visit {scheduled_start:%Y-%m-%d %H:%M} by {technician}",
    )
    return wo


_WORK_ORDER_REFUSED = (
    "Work orders are changed by their field technician, Tier 2 or above working the ticket, "
    "or a lead."
)


@transaction.atomic
def update_work_order(
    *, work_order: WorkOrder, by: User, expected_version: int | None = None, **changes: Any
) -> WorkOrder:
    perms.ensure(perms.can_change_work_order(by, work_order), _WORK_ORDER_REFUSED)
    if work_order.status in (WorkOrder.Status.DONE, WorkOrder.Status.CANCELLED):
        raise ActionRefused(f"{work_order.number} is {work_order.get_status_display().lower()}.")
    unknown = set(changes) - set(_WORK_ORDER_FIELDS) - {"status"}
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field can't be changed here."))
    if "checklist" in changes:
        changes["checklist"] = _clean_checklist(changes["checklist"])
    for name in ("desk", "device"):
        if name in changes:
            changes[name] = clean_text(changes[name] or "")
    if "instructions" in changes:
        changes["instructions"] = clean_html(changes["instructions"] or "")
    if "status" in changes and changes["status"] not in (
        WorkOrder.Status.SCHEDULED,
        WorkOrder.Status.IN_PROGRESS,
    ):
        raise ValidationError({"status": "Use complete or cancel to finish a work order."})
    old = {name: getattr(work_order, name) for name in changes}
    for name, value in changes.items():
        setattr(work_order, name, value)
    _validate_work_order(work_order)
    _save_work_order(work_order, changes, expected_version)
    record_changes(work_order, by, [(n, old[n], getattr(work_order, n)) for n in changes])
    return work_order


def _save_work_order(wo: WorkOrder, fields: Iterable[str], expected_version: int | None) -> None:
    wo.updated_at = timezone.now()
    version = wo.version if expected_version is None else expected_version
    values = {name: getattr(wo, name) for name in {*fields, "updated_at"}}
    if not WorkOrder.objects.filter(pk=wo.pk, version=version).update(
        version=F("version") + 1, **values
    ):
        raise StaleEdit()
    wo.version = version + 1


@transaction.atomic
def complete_work_order(
    *,
    work_order: WorkOrder,
    by: User,
    outcome: str,
    signoff_name: str,
    time_spent_minutes: int,
    checklist: Any = None,
    expected_version: int | None = None,
) -> WorkOrder:
    """Record the visit: outcome, time, the requester's sign-off."""
    perms.ensure(perms.can_change_work_order(by, work_order), _WORK_ORDER_REFUSED)
    if work_order.status in (WorkOrder.Status.DONE, WorkOrder.Status.CANCELLED):
        raise ActionRefused(
            f"{work_order.number} is already {work_order.get_status_display().lower()}."
        )
    errors: dict[str, str] = {}
    outcome = _require_text(
        errors, "outcome", clean_html(outcome), max_length=10000, label="The outcome"
    )
    signoff_name = _require_text(
        errors, "signoff_name", clean_text(signoff_name), max_length=120, label="The sign-off name"
    )
    if not isinstance(time_spent_minutes, int) or not 0 <= time_spent_minutes <= 24 * 60:
        errors["time_spent_minutes"] = "Time spent must be between 0 and 1440 minutes."
    _raise_if(errors)
    if checklist is not None:
        work_order.checklist = _clean_checklist(checklist)
    work_order.status = WorkOrder.Status.DONE
    work_order.outcome, work_order.signoff_name = outcome, signoff_name
    work_order.time_spent_minutes = time_spent_minutes
    work_order.completed_at = timezone.now()
    _save_work_order(
        work_order,
        ["status", "outcome", "signoff_name", "time_spent_minutes", "completed_at", "checklist"],
        expected_version,
    )
    record(
        work_order,
        by,
        "completed",
        field="status",
        new=WorkOrder.Status.DONE.label,
        summary=f"signed off by {signoff_name}",
    )
    ticket = Ticket.objects.get(pk=work_order.ticket_id)
    ticket.time_spent_minutes += time_spent_minutes
    _save(ticket, ["time_spent_minutes"])
    record(
        ticket,
        by,
        "work order done",
        summary=f"{work_order.number}: {time_spent_minutes} min, signed off by {signoff_name}",
    )
    return work_order


@transaction.atomic
def cancel_work_order(*, work_order: WorkOrder, by: User, reason: str) -> WorkOrder:
    perms.ensure(perms.can_change_work_order(by, work_order), _WORK_ORDER_REFUSED)
    if work_order.status in (WorkOrder.Status.DONE, WorkOrder.Status.CANCELLED):
        raise ActionRefused(
            f"{work_order.number} is already {work_order.get_status_display().lower()}."
        )
    errors: dict[str, str] = {}
    reason = _require_text(errors, "reason", clean_text(reason), max_length=1000, label="A reason")
    _raise_if(errors)
    old = work_order.status
    work_order.status = WorkOrder.Status.CANCELLED
    _save_work_order(work_order, ["status"], None)
    record(
        work_order, by, "cancelled", field="status", old=old, new=work_order.status, summary=reason
    )
    record(work_order.ticket, by, "work order cancelled", summary=f"{work_order.number}: {reason}")
    return work_order


# --- calls ----------------------------------------------------------------------------------


@transaction.atomic
def log_call(
    *,
    by: User,
    outcome: str,
    caller: User | None = None,
    caller_name: str = "",
    caller_phone: str = "",
    started_at: datetime | None = None,
    duration_seconds: int = 0,
    notes: str = "",
    direction: str = Call.Direction.INBOUND,
    ticket: Ticket | None = None,
    subject: str = "",
) -> Call:
    """Log a phone call. Outcome: solved on the call, a new ticket, or added to a ticket."""
    perms.ensure(perms.is_staff_member(by), "Only the help desk logs calls.")
    errors: dict[str, str] = {}
    if outcome not in Call.Outcome.values:
        errors["outcome"] = "Choose what came of the call."
    if direction not in Call.Direction.values:
        errors["direction"] = "Inbound or outbound?"
    if not isinstance(duration_seconds, int) or not 0 <= duration_seconds <= 24 * 3600:
        errors["duration_seconds"] = "Talk time must be between 0 seconds and 24 hours."
    if started_at is not None and not date_in_range(started_at.date()):
        errors["started_at"] = DATE_RANGE_MESSAGE
    notes = clean_html(notes)
    if len(notes) > 20000:
        errors["notes"] = "Notes are too long (at most 20,000 characters)."
    caller_name = clean_text(caller_name or (str(caller) if caller else ""))[:120]
    caller_phone = clean_text(caller_phone or (caller.phone if caller else ""))[:40]
    if not caller_name and not caller_phone:
        errors["caller"] = "Who called? Pick a person or type a name or number."
    if outcome == Call.Outcome.NEW_TICKET:
        if caller is None:
            errors["caller"] = "A new ticket needs the caller picked from the directory."
        if not (subject or "").strip():
            errors["subject"] = "A new ticket needs a subject."
    if outcome == Call.Outcome.EXISTING_TICKET and ticket is None:
        errors["ticket"] = "Which ticket should the call be added to?"
    _raise_if(errors)
    started_at = started_at or timezone.now()
    minutes = math.ceil(duration_seconds / 60)
    if outcome == Call.Outcome.NEW_TICKET:
        ticket = open_ticket(
            requester=caller,
            by=by,
            subject=subject,
            description=notes or subject,
            channel=Channel.PHONE,
        )
        if perms.can_work_ticket(by, ticket) and ticket.assignee_id is None:
            assign(ticket=ticket, by=by, assignee=by)
    elif ticket is not None:
        perms.ensure(perms.can_log_call(by, ticket), "You can't log a call on this ticket.")
        if ticket.status == Status.CLOSED:
            raise ValidationError(
                {"ticket": f"{ticket.number} is closed: open a new ticket instead."}
            )
    call = Call.objects.create(
        caller=caller,
        caller_name=caller_name,
        caller_phone=caller_phone,
        technician=by,
        direction=direction,
        started_at=started_at,
        duration_seconds=duration_seconds,
        notes=notes,
        outcome=outcome,
        ticket=ticket,
    )
    record(call, by, "logged", summary=Call.Outcome(outcome).label)
    if ticket is not None:
        ticket.refresh_from_db()
        ticket.time_spent_minutes += minutes
        _save(ticket, ["time_spent_minutes"])
        record(ticket, by, "call", summary=f"{caller_name or caller_phone}, {minutes} min")
    return call


@transaction.atomic
def save_view(*, owner: User, name: str, query: str):
    from tierline.desk.models import SavedView

    errors: dict[str, str] = {}
    name = _require_text(errors, "name", clean_text(name), max_length=60, label="A name")
    if len(query) > 1000:
        errors["query"] = "Too many filters to save."
    _raise_if(errors)
    view, _ = SavedView.objects.update_or_create(
        owner=owner, name=name, defaults={"query": query.lstrip("?")}
    )
    return view


@transaction.atomic
def delete_saved_view(*, owner: User, pk: int) -> str:
    """Delete one of the owner's saved views; another person's (or none) is a 404."""
    from django.http import Http404

    from tierline.desk.models import SavedView

    view = SavedView.objects.filter(owner=owner, pk=pk).first()
    if view is None:
        raise Http404("No such saved view.")
    name = view.name
    view.delete()
    return name

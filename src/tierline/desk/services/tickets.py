"""Opening a ticket, routing and prioritising it, changing its fields, status and assignee."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone

from tierline.core import events
from tierline.core.errors import ActionRefused
from tierline.core.history import record, record_changes
from tierline.desk import permissions as perms
from tierline.desk.defaults import DEFAULT_MATRIX
from tierline.desk.events import (
    CategoryChanged,
    PriorityChanged,
    TicketAssigned,
    TicketChanged,
    TicketOpened,
)
from tierline.desk.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    Level,
    Priority,
    PriorityRule,
    Status,
    Ticket,
)
from tierline.desk.services.attachments import attach, validate_upload
from tierline.desk.services.common import (
    conf,
    ensure_not_finished,
    ensure_workable,
    raise_if,
    require_text,
    ticket_number,
)
from tierline.desk.services.saving import ensure_current, save_versioned
from tierline.desk.services.status import TRANSITIONS, set_status
from tierline.people import queries as people
from tierline.people.models import Team, User


def priority_for(impact: int, urgency: int) -> int:
    """The matrix cell for impact × urgency: configured in the admin, else the default."""
    rule = PriorityRule.objects.filter(impact=impact, urgency=urgency).values_list(
        "priority", flat=True
    )
    return rule.first() or DEFAULT_MATRIX[(impact, urgency)]


# What a requester (not the help desk) may choose when opening a ticket, by the portal's form or
# by the API alike: how much it gets in their way (urgency) and a category. Impact, the channel
# a call or a visit came by and the team are the help desk's judgement; and a requester's
# ticket is never more urgent than P2 however the matrix is configured: a P1 is declared by
# the desk. One rule, checked by open_ticket whoever calls it.
REQUESTER_CHANNELS = frozenset({Channel.PORTAL, Channel.API, Channel.EMAIL})
REQUESTER_PRIORITY_CAP = Priority.HIGH


def opened_by_requester(actor: User) -> bool:
    """Whether a ticket opened by `actor` follows the requesters' rules (not the help desk's)."""
    return not perms.is_staff_member(actor)


def _check_requester_choices(
    errors: dict[str, str], *, impact: int, channel: str, team: Team | None
) -> None:
    if impact != Level.MEDIUM:
        errors["impact"] = (
            "The help desk judges the impact; say how much it gets in your way with the urgency."
        )
    if channel not in REQUESTER_CHANNELS:
        errors["channel"] = (
            f"Only the help desk records a ticket as “{channel}”; "
            f"choose one of: {', '.join(sorted(REQUESTER_CHANNELS))}."
        )
    if team is not None:
        errors["team"] = "The help desk chooses the team."


def default_team_for(tier: int) -> Team:
    """The team a ticket sent to `tier` goes to; refused when the tier has no team."""
    team = people.default_team_for_tier(tier)
    if team is None:
        raise ActionRefused(f"There is no Tier {tier} team to send this ticket to.")
    return team


def _insert_numbered(ticket: Ticket, *, highest: int = Priority.CRITICAL) -> None:
    """PostgreSQL: insert `ticket` with its id, its number and its matrix priority, in one
    statement; sets the three on the instance.

    The id comes from the sequence first (`nextval` in the SELECT), so the number is written
    with the row: no UPDATE after it. The priority is the configured matrix cell, else the
    default, held to `highest` (a requester's cap). One round trip instead of two or three (on PostgreSQL each costs more than the
    SQL it carries): written as SQL because the ORM can't insert a value computed from the
    id it is about to take. It reads and writes only the desk's own tables; the team comes
    from people.queries. Column lists come from the model's metadata, values are parameters.
    """
    q = connection.ops.quote_name
    meta = Ticket._meta
    computed = ("id", "number", "priority")  # written and returned in this order
    fields = [f for f in meta.concrete_fields if f.attname not in computed]
    ticket.is_open = ticket.status in OPEN_STATUSES
    values = [f.get_db_prep_save(f.pre_save(ticket, True), connection) for f in fields]
    columns = ", ".join(q(f.column) for f in fields)
    computed_columns = ", ".join(q(meta.get_field(name).column) for name in computed)
    rule = q(PriorityRule._meta.db_table)
    sql = (
        f"INSERT INTO {q(meta.db_table)} ({columns}, {computed_columns})"  # noqa: S608
        f" SELECT {', '.join(['%s'] * len(fields))}, n.id,"
        # TL-000123, and TL-1234567 past a million: as ticket_number() writes it.
        f" %s || lpad(n.id::text, greatest(6, length(n.id::text)), '0'),"
        f" greatest(coalesce((SELECT r.priority FROM {rule} r"
        f" WHERE r.impact = %s AND r.urgency = %s LIMIT 1), %s), %s)"
        f" FROM (SELECT nextval(pg_get_serial_sequence('{meta.db_table}', 'id')) AS id) n"
        f" RETURNING {computed_columns}"
    )
    params = [
        *values,
        f"{conf()['TICKET_PREFIX']}-",
        ticket.impact,
        ticket.urgency,
        DEFAULT_MATRIX[(ticket.impact, ticket.urgency)],
        highest,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ticket.pk, ticket.number, ticket.priority = cursor.fetchone()
    ticket._state.adding, ticket._state.db = False, connection.alias


def _route_new_ticket(team_id: int | None) -> Team:
    """The team a new ticket goes to: the given one, else Tier 1's default."""
    team = people.team_for_new_ticket(team_id)
    if team is None and team_id is not None:
        raise ActionRefused("The team this ticket was sent to no longer exists.")
    if team is None:
        raise ActionRefused("There is no Tier 1 team to send this ticket to.")
    return team


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
    subject = require_text(
        errors, "subject", subject, max_length=200, label="Subject", multiline=False
    )
    description = require_text(
        errors, "description", description, max_length=20000, label="Description"
    )
    if impact not in Level.values:
        errors["impact"] = "Choose an impact: 1 (high), 2 (medium) or 3 (low)."
    if urgency not in Level.values:
        errors["urgency"] = "Choose an urgency: 1 (high), 2 (medium) or 3 (low)."
    if channel not in Channel.values:
        errors["channel"] = f"Unknown channel “{channel}”."
    if category is not None and not category.is_active:
        errors["category"] = "That category is no longer in use."
    actor = by or requester
    as_requester = opened_by_requester(actor)
    if as_requester:
        _check_requester_choices(errors, impact=impact, channel=channel, team=team)
    raise_if(errors)
    for upload in uploads:
        validate_upload(upload)

    # The given team, else the category's, else (None) Tier 1's default.
    team = _route_new_ticket(team.pk if team else (category.default_team_id if category else None))
    now = created_at or timezone.now()
    ticket = Ticket(
        subject=subject,
        description=description,
        requester=requester,
        category=category,
        impact=impact,
        urgency=urgency,
        channel=channel,
        tier=team.tier,
        team=team,
        parent=parent,
        created_at=now,
        updated_at=now,
    )
    highest = REQUESTER_PRIORITY_CAP if as_requester else Priority.CRITICAL
    if connection.vendor == "postgresql":
        _insert_numbered(ticket, highest=highest)
    else:  # SQLite: round trips cost nothing; insert, then write the number
        ticket.priority = max(priority_for(impact, urgency), highest)
        ticket.save(force_insert=True)
        ticket.number = ticket_number(ticket.pk)
        Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
    record(ticket, actor, "opened", summary=f"via {ticket.get_channel_display()}", at=now)
    attach(ticket, actor, uploads)
    events.publish(
        TicketOpened(
            ticket_id=ticket.pk,
            actor_id=actor.pk,
            requester_id=requester.pk,
            team_id=team.pk,
            tier=team.tier,
            priority=ticket.priority,
            channel=channel,
            category_id=category.pk if category else None,
            parent_id=parent.pk if parent else None,
            created_at=now,
            status=ticket.status,
            requester_department_id=requester.department_id,
            requester_vip=requester.is_vip,
        )
    )
    return ticket


@transaction.atomic
def change_fields(
    *,
    ticket: Ticket,
    by: User,
    expected_version: int | None = None,
    **changes: Any,
) -> Ticket:
    """Change subject, category, impact or urgency; priority follows the matrix.

    From a page loaded at `expected_version`, refused (StaleEdit, with the current values) if
    the ticket changed since.
    """
    ensure_current(ticket, expected_version)
    ensure_workable(by, ticket)
    allowed = {"subject", "category", "impact", "urgency"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field can't be changed here."))
    errors: dict[str, str] = {}
    if "subject" in changes:
        changes["subject"] = require_text(
            errors,
            "subject",
            changes["subject"],
            max_length=200,
            label="Subject",
            multiline=False,
        )
    for level in ("impact", "urgency"):
        if level in changes and changes[level] not in Level.values:
            errors[level] = f"Choose a valid {level}."
    raise_if(errors)
    levels = ("impact", "urgency", "priority")
    old = {name: getattr(ticket, name) for name in {*changes, *levels}}
    for name, value in changes.items():
        setattr(ticket, name, value)
    ticket.priority = priority_for(ticket.impact, ticket.urgency)
    save_versioned(ticket, [*changes, "priority"])
    record_changes(
        ticket,
        by,
        [(name, old[name], getattr(ticket, name)) for name in (*changes, "priority")],
    )
    described = tuple(
        name for name in ("subject", "category") if name in changes and old[name] != changes[name]
    )
    if "category" in described:
        events.publish(
            CategoryChanged(
                ticket_id=ticket.pk,
                actor_id=by.pk,
                fields=described,
                old_category_id=old["category"].pk if old["category"] else None,
                new_category_id=ticket.category_id,
            )
        )
    elif described:
        events.publish(TicketChanged(ticket_id=ticket.pk, actor_id=by.pk, fields=described))
    if any(old[name] != getattr(ticket, name) for name in levels):
        events.publish(
            PriorityChanged(
                ticket_id=ticket.pk,
                actor_id=by.pk,
                old_impact=old["impact"],
                new_impact=ticket.impact,
                old_urgency=old["urgency"],
                new_urgency=ticket.urgency,
                old_priority=old["priority"],
                new_priority=ticket.priority,
            )
        )
    return ticket


@transaction.atomic
def change_status(
    *, ticket: Ticket, by: User, status: str, expected_version: int | None = None
) -> Ticket:
    """Move an open ticket to another open status (resolving and closing have their own).

    From a page loaded at `expected_version`, refused (StaleEdit, with the current values) if
    the ticket changed since: a select on an old page never overwrites a colleague's move.
    """
    ensure_current(ticket, expected_version)
    ensure_workable(by, ticket)
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
    set_status(ticket, by=by, status=status)
    return ticket


@transaction.atomic
def assign(
    *,
    ticket: Ticket,
    by: User,
    assignee: User | None,
    expected_version: int | None = None,
) -> Ticket:
    """Give the ticket to a technician of its team (or to nobody). A new ticket opens.

    From a page loaded at `expected_version`, refused (StaleEdit) if the ticket changed since.
    """
    ensure_current(ticket, expected_version)
    ensure_workable(by, ticket)
    ensure_not_finished(ticket, "assign")
    if assignee is not None:
        if not assignee.is_staff_member:
            raise ValidationError({"assignee": f"{assignee} is not on the help desk."})
        if not (assignee.is_lead or ticket.team_id in perms.team_ids(assignee)):
            raise ValidationError({"assignee": f"{assignee} is not in {ticket.team}."})
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    old = ticket.assignee
    ticket.assignee = assignee
    opens = ticket.status == Status.NEW and assignee is not None
    set_status(ticket, by=by, status=Status.OPEN if opens else ticket.status, fields=["assignee"])
    record(ticket, by, "assigned", field="assignee", old=old, new=assignee)
    events.publish(
        TicketAssigned(
            ticket_id=ticket.pk,
            actor_id=by.pk,
            old_assignee_id=old.pk if old else None,
            new_assignee_id=assignee.pk if assignee else None,
        )
    )
    return ticket


def take(*, ticket: Ticket, by: User, expected_version: int | None = None) -> Ticket:
    """Assign to oneself."""
    return assign(ticket=ticket, by=by, assignee=by, expected_version=expected_version)

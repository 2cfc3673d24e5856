"""Moving a ticket between tiers: up with what was tried, down with why."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from tierline.core import events
from tierline.core.errors import ActionRefused
from tierline.core.history import record
from tierline.desk.events import DeEscalated, Escalated, TicketAssigned
from tierline.desk.models import Escalation, Status, Ticket
from tierline.desk.services.common import (
    ensure_not_finished,
    ensure_workable,
    raise_if,
    require_text,
)
from tierline.desk.services.saving import ensure_current
from tierline.desk.services.status import set_status
from tierline.desk.services.tickets import default_team_for
from tierline.people.models import Team, User


@transaction.atomic
def escalate(
    *,
    ticket: Ticket,
    by: User,
    summary: str,
    team: Team | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Send the ticket up to the next tier (or to a chosen team at the same or a higher tier).

    The summary of what was already tried is required: the next tier must not start from zero.
    From a page loaded at `expected_version`, refused (StaleEdit) if the ticket changed since.
    """
    ensure_current(ticket, expected_version)
    ensure_workable(by, ticket)
    ensure_not_finished(ticket, "escalate")
    errors: dict[str, str] = {}
    summary = require_text(
        errors,
        "summary",
        summary,
        max_length=10000,
        label="A summary of what was tried",
    )
    raise_if(errors)
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
def de_escalate(
    *,
    ticket: Ticket,
    by: User,
    summary: str,
    team: Team | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Hand the ticket back down a tier, with a note of why (refused from a stale page)."""
    ensure_current(ticket, expected_version)
    ensure_workable(by, ticket)
    ensure_not_finished(ticket, "de-escalate")
    errors: dict[str, str] = {}
    summary = require_text(errors, "summary", summary, max_length=10000, label="A reason")
    raise_if(errors)
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
    """The ticket goes to `team`, unassigned; a new ticket opens (with its status entry)."""
    old_team, old_tier, old_assignee = ticket.team, ticket.tier, ticket.assignee
    escalation = Escalation.objects.create(
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
    up = direction == Escalation.Direction.UP
    if up:
        ticket.escalation_count += 1
        fields.append("escalation_count")
    status = Status.OPEN if ticket.status == Status.NEW else ticket.status
    set_status(ticket, by=by, status=status, fields=fields)
    action = "escalated" if up else "de-escalated"
    record(ticket, by, action, field="team", old=old_team, new=team, summary=summary)
    event_type = Escalated if up else DeEscalated
    events.publish(
        event_type(
            ticket_id=ticket.pk,
            actor_id=by.pk,
            escalation_id=escalation.pk,
            from_team_id=old_team.pk,
            to_team_id=team.pk,
            from_tier=old_tier,
            to_tier=team.tier,
        )
    )
    if old_assignee is not None:
        record(ticket, by, "assigned", field="assignee", old=old_assignee, new=None)
        events.publish(
            TicketAssigned(
                ticket_id=ticket.pk,
                actor_id=by.pk,
                old_assignee_id=old_assignee.pk,
                new_assignee_id=None,
            )
        )
    return ticket

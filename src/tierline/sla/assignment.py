"""Auto-assignment inside a team, and a technician's pause of their own intake.

A team whose `TeamRota.mode` is set gets each new ticket (and each ticket escalated to it)
assigned after commit, by a task, through `desk.services.assign` as the sla system user. Who
may be picked: the team's active technicians who have not paused their intake, have every skill
the ticket's category needs (`CategorySkill`), are on shift (in the team calendar's business
hours everyone; outside them only who is on call, see `rota.on_shift_ids`) and are under the
team's cap of open tickets. Round-robin takes the next of them after the team's last pick (by
id, wrapping round); least-loaded the one with the fewest open tickets (then the lowest id).

Concurrency: the ticket's row is locked first (the desk's order), then the team's rota row, so
two tickets of one team are assigned one after the other and each sees the other's pick. A
ticket that has an assignee when its lock is taken is left alone: a person's choice stands.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from tierline.desk import permissions as perms
from tierline.desk import queries as desk_queries
from tierline.desk import services as desk_services
from tierline.desk.models import Ticket
from tierline.people import queries as people_queries
from tierline.people.models import User
from tierline.people.services import system_user
from tierline.sla.models import AssignmentMode, CategorySkill, IntakePause, TeamRota
from tierline.sla.rota import on_shift_ids

logger = logging.getLogger(__name__)


def is_paused(person: User) -> bool:
    return IntakePause.objects.filter(person=person).exists()


@transaction.atomic
def set_intake_paused(*, person: User, paused: bool) -> bool:
    """Pause (or resume) auto-assignment to `person`; returns whether it changed anything."""
    if not person.is_staff_member or person.is_system:
        raise ValidationError("Only a technician takes tickets from auto-assignment.")
    if paused:
        _, created = IntakePause.objects.get_or_create(person=person)
        return created
    deleted, _ = IntakePause.objects.filter(person=person).delete()
    return bool(deleted)


def candidates(rota: TeamRota, *, category_id: int | None, at: datetime) -> list[User]:
    """Who may be given a ticket of this team now, by id (see the module's docstring)."""
    people = people_queries.team_members(rota.team_id).exclude(role=User.Role.REQUESTER)
    for skill_id in CategorySkill.objects.filter(category_id=category_id).values_list(
        "skill_id", flat=True
    ):
        people = people.filter(skills=skill_id)
    paused = IntakePause.objects.values_list("person_id", flat=True)
    people = list(people.exclude(pk__in=paused).order_by("pk"))
    shift = on_shift_ids(rota, rota.team_id, at)
    if shift is not None:
        people = [p for p in people if p.pk in shift]
    if rota.open_ticket_cap:
        load = desk_queries.open_ticket_counts(p.pk for p in people)
        people = [p for p in people if load.get(p.pk, 0) < rota.open_ticket_cap]
    return people


def pick(rota: TeamRota, people: list[User]) -> User | None:
    if not people:
        return None
    if rota.mode == AssignmentMode.LEAST_LOADED:
        load = desk_queries.open_ticket_counts(p.pk for p in people)
        return min(people, key=lambda p: (load.get(p.pk, 0), p.pk))
    after = rota.last_assignee_id or 0
    return next((p for p in people if p.pk > after), people[0])


def auto_assign(*, ticket_id: int, at: datetime | None = None) -> User | None:
    """Assign the ticket by its team's mode; the technician picked, or None (mode off, someone
    already assigned, nobody free: the last is written on the ticket)."""
    at = at or timezone.now()
    actor = system_user("sla")
    try:
        with transaction.atomic():
            ticket = (
                perms.visible_tickets(actor)
                .select_for_update(of=("self",))
                .filter(pk=ticket_id)
                .first()
            )
            if ticket is None or not ticket.is_open or ticket.assignee_id is not None:
                return None
            rota = (
                TeamRota.objects.select_for_update(of=("self",))
                .select_related("calendar")
                .filter(team_id=ticket.team_id)
                .first()
            )
            if rota is None or not rota.mode:
                return None
            chosen = pick(rota, candidates(rota, category_id=ticket.category_id, at=at))
            mode = AssignmentMode(rota.mode).label.split(" (")[0].lower()
            if chosen is None:
                desk_services.record_on_ticket(
                    ticket_id=ticket.pk,
                    by=actor,
                    action="auto-assign skipped",
                    summary=f"Nobody in {ticket.team} is free ({mode}): paused, off shift, "
                    "at their cap or without the skills.",
                )
                return None
            desk_services.assign(ticket=ticket, by=actor, assignee=chosen)
            desk_services.record_on_ticket(
                ticket_id=ticket.pk,
                by=actor,
                action="auto-assigned",
                summary=f"{chosen} by {mode} in {ticket.team}.",
            )
            rota.last_assignee = chosen
            rota.save(update_fields=["last_assignee"])
            return chosen
    except (ValidationError, PermissionDenied) as refused:  # a stale edit, the desk's rules
        logger.info("Auto-assignment of ticket %s refused: %s", ticket_id, refused)
        return None


def reassign(*, ticket: Ticket, by: User, at: datetime | None = None) -> User:
    """Give a ticket to someone else of its team (a policy's "reassign" action; the caller
    holds the ticket's row): the team's mode picks among the candidates less the assignee,
    least-loaded when the team has no mode. ValidationError when nobody else is free."""
    at = at or timezone.now()
    rota = (
        TeamRota.objects.select_for_update(of=("self",))
        .select_related("calendar")
        .filter(team_id=ticket.team_id)
        .first()
    )
    working = (
        rota
        if rota is not None and rota.mode
        else TeamRota(
            team_id=ticket.team_id,
            mode=AssignmentMode.LEAST_LOADED,
            calendar=rota.calendar if rota else None,
            open_ticket_cap=rota.open_ticket_cap if rota else None,
        )
    )
    people = [
        p
        for p in candidates(working, category_id=ticket.category_id, at=at)
        if p.pk != ticket.assignee_id
    ]
    chosen = pick(working, people)
    if chosen is None:
        raise ValidationError(f"Nobody else in {ticket.team} is free.")
    desk_services.assign(ticket=ticket, by=by, assignee=chosen)
    if working is rota:
        rota.last_assignee = chosen
        rota.save(update_fields=["last_assignee"])
    return chosen

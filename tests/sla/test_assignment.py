"""Auto-assignment inside a team: round-robin and least-loaded, skipping paused, off-shift,
over-cap and unskilled technicians; never over a person's choice; as the sla user."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection

from tests.concurrency import run_together
from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tests.sla import factories
from tests.sla.oncall_factories import closed_now, rota, shift, technicians
from tierline.core.history import history_of
from tierline.desk import services as desk_services
from tierline.desk.models import Category, Ticket
from tierline.people.models import Skill
from tierline.people.services import system_user
from tierline.sla import assignment
from tierline.sla.models import AssignmentMode, CategorySkill, IntakePause, TeamRota

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return people_factories.team(1)


def opened(requester, n: int = 1, **kwargs) -> list[Ticket]:
    """Tickets opened through the desk, their after-commit handlers (the assigner) left out."""
    return [desk_factories.ticket(requester, subject=f"Ticket {i}", **kwargs) for i in range(n)]


def assignees(tickets: list[Ticket]) -> list[str | None]:
    out = []
    for ticket in tickets:
        ticket.refresh_from_db()
        out.append(ticket.assignee.username if ticket.assignee else None)
    return out


def test_round_robin_takes_turns_in_order_and_wraps(team, employee):
    # given three technicians and a round-robin team
    technicians(1, 3)
    rota(team, mode=AssignmentMode.ROUND_ROBIN)
    tickets = opened(employee, 4)
    # when each is assigned
    for ticket in tickets:
        assignment.auto_assign(ticket_id=ticket.pk)
    # then they take turns, and the fourth goes round to the first again
    assert assignees(tickets) == ["tech0", "tech1", "tech2", "tech0"]
    assert TeamRota.objects.get(team=team).last_assignee.username == "tech0"


def test_a_new_ticket_is_assigned_after_commit_as_the_sla_user(
    team, employee, django_capture_on_commit_callbacks
):
    technicians(1, 2)
    rota(team, mode=AssignmentMode.ROUND_ROBIN)
    # when a ticket is opened (its after-commit handlers run)
    with django_capture_on_commit_callbacks(execute=True):
        [ticket] = opened(employee)
    # then it is assigned by the sla user, who says why in the history
    assert assignees([ticket]) == ["tech0"]
    entries = {e.action: e for e in history_of(ticket)}
    sla = system_user("sla")
    assert entries["assigned"].actor == sla
    assert entries["auto-assigned"].actor == sla
    assert entries["auto-assigned"].summary == f"{ticket.assignee} by round-robin in {ticket.team}."


def test_round_robin_skips_paused_and_over_cap_technicians(team, employee):
    tech0, tech1, tech2 = technicians(1, 3)
    rota(team, mode=AssignmentMode.ROUND_ROBIN, open_ticket_cap=1)
    assignment.set_intake_paused(person=tech1, paused=True)
    # tech0 already has one open ticket: at the cap
    [busy] = opened(employee)
    desk_services.assign(ticket=busy, by=tech0, assignee=tech0)
    tickets = opened(employee, 2)
    for ticket in tickets:
        assignment.auto_assign(ticket_id=ticket.pk)
    # then only tech2 is free for the first; nobody for the second (tech2 reached the cap)
    assert assignees(tickets) == ["tech2", None]
    assert history_of(tickets[1]).filter(action="auto-assign skipped").exists()


def test_a_technician_who_resumes_is_picked_again(team, employee):
    [tech0] = technicians(1, 1)
    rota(team, mode=AssignmentMode.ROUND_ROBIN)
    assert assignment.set_intake_paused(person=tech0, paused=True) is True
    assert assignment.set_intake_paused(person=tech0, paused=True) is False  # once is enough
    [first] = opened(employee)
    assert assignment.auto_assign(ticket_id=first.pk) is None
    assignment.set_intake_paused(person=tech0, paused=False)
    [second] = opened(employee)
    assert assignment.auto_assign(ticket_id=second.pk) == tech0


def test_a_requester_cannot_pause_an_intake(employee):
    with pytest.raises(Exception, match="technician"):
        assignment.set_intake_paused(person=employee, paused=True)
    assert not IntakePause.objects.exists()


def test_least_loaded_picks_the_technician_with_fewest_open_tickets(team, employee):
    tech0, tech1, tech2 = technicians(1, 3)
    rota(team, mode=AssignmentMode.LEAST_LOADED)
    for person, count in ((tech0, 2), (tech1, 1), (tech2, 3)):
        for ticket in opened(employee, count):
            desk_services.assign(ticket=ticket, by=person, assignee=person)
    tickets = opened(employee, 3)
    for ticket in tickets:
        assignment.auto_assign(ticket_id=ticket.pk)
    # tech1 (1 open) first; then tech0 and tech1 tie at 2: the lower id; then tech1 (2) again
    assert assignees(tickets) == ["tech1", "tech0", "tech1"]


def test_resolved_tickets_do_not_count_as_load(team, employee):
    tech0, tech1 = technicians(1, 2)
    rota(team, mode=AssignmentMode.LEAST_LOADED, open_ticket_cap=1)
    [done] = opened(employee)
    desk_services.assign(ticket=done, by=tech0, assignee=tech0)
    desk_services.resolve(ticket=done, by=tech0, body="Restarted it.", resolution_code="fixed")
    [ticket] = opened(employee)
    assert assignment.auto_assign(ticket_id=ticket.pk) == tech0


def test_only_technicians_with_the_categorys_skills_are_picked(team, employee):
    tech0, tech1 = technicians(1, 2)
    printers = Skill.objects.create(name="Printers")
    tech1.skills.add(printers)
    category = Category.objects.order_by("pk").first()
    CategorySkill.objects.create(category=category, skill=printers)
    rota(team, mode=AssignmentMode.ROUND_ROBIN)
    [ticket] = opened(employee, category=category)
    assert assignment.auto_assign(ticket_id=ticket.pk) == tech1


def test_out_of_hours_only_who_is_on_call_is_given_tickets(team, employee):
    tech0, tech1 = technicians(1, 2)
    rota(team, mode=AssignmentMode.ROUND_ROBIN, calendar=closed_now())
    [nobody] = opened(employee)
    # no shift now: nobody is on shift
    assert assignment.auto_assign(ticket_id=nobody.pk) is None
    # tech1 on call now: only tech1
    shift(team, tech1)
    tickets = opened(employee, 2)
    for ticket in tickets:
        assignment.auto_assign(ticket_id=ticket.pk)
    assert assignees(tickets) == ["tech1", "tech1"]


def test_in_business_hours_the_whole_team_is_on_shift(team, employee):
    technicians(1, 2)
    rota(team, mode=AssignmentMode.ROUND_ROBIN, calendar=factories.always_open())
    [ticket] = opened(employee)
    assert assignment.auto_assign(ticket_id=ticket.pk).username == "tech0"


def test_an_assignee_a_person_chose_meanwhile_is_never_overwritten(team, employee, tier1):
    technicians(1, 2)
    rota(team, mode=AssignmentMode.ROUND_ROBIN)
    [ticket] = opened(employee)
    # a technician takes it before the assigner's task runs
    desk_services.take(ticket=ticket, by=tier1)
    assert assignment.auto_assign(ticket_id=ticket.pk) is None
    assert assignees([ticket]) == ["tier1"]
    assert not history_of(ticket).filter(action__startswith="auto-assign").exists()


def test_mode_off_assigns_nobody(team, employee):
    technicians(1, 2)
    rota(team)
    [ticket] = opened(employee)
    assert assignment.auto_assign(ticket_id=ticket.pk) is None
    assert assignees([ticket]) == [None]


def test_an_escalated_ticket_is_assigned_in_its_new_team(
    employee, tier1, django_capture_on_commit_callbacks
):
    [specialist] = technicians(2, 1, prefix="spec")
    rota(people_factories.team(2), mode=AssignmentMode.ROUND_ROBIN)
    [ticket] = opened(employee)
    with django_capture_on_commit_callbacks(execute=True):
        desk_services.escalate(ticket=ticket, by=tier1, summary="Needs the network team.")
    assert assignees([ticket]) == [specialist.username]


@pytest.mark.django_db(transaction=True)
def test_two_tickets_at_once_take_turns_and_never_pick_the_same_next(employee, monkeypatch):
    # given a round-robin team of two and two new tickets, assigned at the same instant
    team = people_factories.team(1)
    technicians(1, 2)
    tickets = opened(employee, 2)  # committed: before the team assigns, so left unassigned
    rota(team, mode=AssignmentMode.ROUND_ROBIN)
    assert assignees(tickets) == [None, None]
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers: the race needs PostgreSQL's row locks")
    # Each assigner waits at this barrier once it has read the team's pointer, so that without
    # the lock both would read it before either wrote it. With the lock the second can't get
    # there while the first holds it: the first's wait breaks (2 s) and it goes on alone.
    met = threading.Barrier(2, timeout=2)
    real = assignment.candidates

    def candidates_meeting(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            met.wait()
        return real(*args, **kwargs)

    monkeypatch.setattr(assignment, "candidates", candidates_meeting)
    # when
    errors = run_together(*(lambda t=t: assignment.auto_assign(ticket_id=t.pk) for t in tickets))
    # then each technician has one: the team's pointer row was locked by the first
    assert errors == []
    assert sorted(assignees(tickets)) == ["tech0", "tech1"]


def test_assigning_twice_is_harmless(team, employee):
    technicians(1, 2)
    rota(team, mode=AssignmentMode.ROUND_ROBIN)
    [ticket] = opened(employee)
    assignment.auto_assign(ticket_id=ticket.pk)
    assert assignment.auto_assign(ticket_id=ticket.pk) is None
    assert assignees([ticket]) == ["tech0"]
    assert history_of(ticket).filter(action="auto-assigned").count() == 1

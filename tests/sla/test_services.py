"""The clock of every ticket, kept from the desk's events: started, met, paused, resumed,
stopped, run again, retargeted; and the sweep that records what became at risk or breached."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tests.sla import factories
from tierline.core import batch
from tierline.core.history import history_of
from tierline.desk import services as desk_services
from tierline.desk.choices import Level, Priority, Status
from tierline.sla import services
from tierline.sla.models import ClockStatus, TicketClock
from tierline.sla.queries import State, state_of

pytestmark = pytest.mark.django_db

MONDAY_10 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # 10:00 in London (BST)


class Clock:
    """The time the sla app reads, moved by the test."""

    def __init__(self, monkeypatch, start: datetime) -> None:
        self.now = start
        monkeypatch.setattr(services, "now", lambda: self.now)

    def advance(self, **kwargs) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch, MONDAY_10)


def open_at(when: datetime, **kwargs):
    return desk_factories.ticket(created_at=when, **kwargs)


def clock_of(ticket) -> TicketClock:
    return TicketClock.objects.get(ticket=ticket)


def test_a_new_ticket_starts_its_clock_on_the_first_matching_policy(clock, employee):
    # given: a 24x7 policy, P3 (the default matrix's medium x medium): 60 min to answer, 8 h to fix
    factories.policy(on=factories.always_open())
    # when
    ticket = open_at(MONDAY_10, requester=employee)
    # then
    row = clock_of(ticket)
    assert row.status == ClockStatus.RUNNING
    assert row.first_response_due == MONDAY_10 + timedelta(minutes=60)
    assert row.resolution_due == MONDAY_10 + timedelta(hours=8)
    assert row.first_response_risk_at == MONDAY_10 + timedelta(minutes=45)  # 75 %
    assert row.next_check_at == row.first_response_risk_at
    assert state_of(row, MONDAY_10) == State.ON_TRACK
    assert state_of(row, MONDAY_10 + timedelta(minutes=50)) == State.AT_RISK
    assert state_of(row, MONDAY_10 + timedelta(minutes=61)) == State.BREACHED


def test_due_times_count_business_hours_of_the_policys_calendar(clock, employee):
    # given: 09:00-17:00 London; a ticket at 16:30 on Friday 5 June (15:30 UTC)
    factories.policy(on=factories.calendar())
    friday = datetime(2026, 6, 5, 15, 30, tzinfo=UTC)
    clock.now = friday
    # when
    ticket = open_at(friday, requester=employee)
    # then: 30 min on Friday, 30 on Monday; resolution (8 h) at 16:30 Monday, London time
    row = clock_of(ticket)
    assert row.first_response_due == datetime(2026, 6, 8, 8, 30, tzinfo=UTC)
    assert row.resolution_due == datetime(2026, 6, 8, 15, 30, tzinfo=UTC)


def test_public_holidays_of_the_calendars_country_are_not_counted(clock, employee):
    # given: England's calendar; Friday 25 December 2026 and Monday 28 (Boxing Day substitute)
    factories.policy(on=factories.calendar(country="GB", subdivision="ENG"))
    thursday_close = datetime(2026, 12, 24, 16, 30, tzinfo=UTC)
    clock.now = thursday_close
    # when
    ticket = open_at(thursday_close, requester=employee)
    # then: the next business morning is Tuesday 29 December
    assert clock_of(ticket).first_response_due == datetime(2026, 12, 29, 9, 30, tzinfo=UTC)


def test_the_first_public_reply_of_the_desk_meets_the_first_response(clock, employee, tier1):
    factories.policy(on=factories.always_open())
    ticket = open_at(MONDAY_10, requester=employee)
    # when: an internal note, then a reply, 20 minutes in
    clock.advance(minutes=10)
    desk_services.add_message(ticket=ticket, by=tier1, body="Looking at logs", internal=True)
    assert clock_of(ticket).first_response_at is None
    answered = clock.advance(minutes=10)
    desk_services.add_message(ticket=ticket, by=tier1, body="On it.")
    # then
    row = clock_of(ticket)
    assert row.first_response_at == answered
    assert not row.breached
    assert state_of(row, answered + timedelta(hours=2)) == State.ON_TRACK  # resolution: 8 h


def test_the_clock_pauses_while_waiting_on_the_requester_and_resumes_on_their_reply(
    clock, employee, tier1
):
    factories.policy(on=factories.always_open())
    ticket = open_at(MONDAY_10, requester=employee)
    clock.advance(hours=1)
    desk_services.add_message(ticket=ticket, by=tier1, body="Which printer?")
    # when: waiting on the requester for 4 hours
    clock.advance(minutes=30)
    desk_services.change_status(ticket=ticket, by=tier1, status=Status.WAITING_REQUESTER)
    paused = clock_of(ticket)
    assert paused.status == ClockStatus.PAUSED
    assert paused.next_check_at is None
    assert state_of(paused, MONDAY_10 + timedelta(days=3)) == State.PAUSED
    resumed_at = clock.advance(hours=4)
    ticket.refresh_from_db()
    desk_services.add_message(ticket=ticket, by=employee, body="The one on floor 2.")
    # then: the 8-hour resolution is due 4 hours later than it was
    row = clock_of(ticket)
    assert row.status == ClockStatus.RUNNING
    assert row.running_since == resumed_at
    assert row.used_seconds == 90 * 60
    assert row.resolution_due == MONDAY_10 + timedelta(hours=12)
    # and the requester's reply started the next response target (120 min)
    assert row.next_response_since == resumed_at
    assert row.next_response_due == resumed_at + timedelta(minutes=120)


def test_resolving_meets_the_resolution_and_reopening_runs_the_clock_on(clock, employee, tier1):
    # given: 3 h to answer, 8 h to resolve (resolving answers too: its note is public)
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (180, None, 480)})
    ticket = open_at(MONDAY_10, requester=employee)
    resolved_at = clock.advance(hours=2)
    desk_services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Cleaned rollers.")
    row = clock_of(ticket)
    assert row.status == ClockStatus.STOPPED
    assert row.resolved_at == resolved_at
    assert state_of(row, resolved_at + timedelta(days=5)) == State.MET
    # when: the requester reopens it a day later
    reopened_at = clock.advance(days=1)
    ticket.refresh_from_db()
    desk_services.reopen(ticket=ticket, by=employee, reason="Jams again.")
    # then: 2 of the 8 hours were used; 6 remain from the reopening
    row = clock_of(ticket)
    assert row.status == ClockStatus.RUNNING
    assert row.resolved_at is None
    assert row.resolution_due == reopened_at + timedelta(hours=6)


def test_a_late_resolution_stays_breached(clock, employee, tier1):
    factories.policy(on=factories.always_open())
    ticket = open_at(MONDAY_10, requester=employee)
    clock.advance(hours=9)
    desk_services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Done at last.")
    assert state_of(clock_of(ticket), clock.now) == State.BREACHED


def test_a_new_priority_takes_its_targets_with_the_time_already_used(clock, employee, tier1):
    calendar = factories.always_open()
    factories.policy(
        on=calendar,
        targets={Priority.CRITICAL: (15, 30, 120), Priority.MEDIUM: (60, 120, 480)},
    )
    ticket = open_at(MONDAY_10, requester=employee)
    # when: 10 minutes in, impact and urgency go high (P1 by the matrix)
    changed_at = clock.advance(minutes=10)
    desk_services.change_fields(ticket=ticket, by=tier1, impact=Level.HIGH, urgency=Level.HIGH)
    # then: 15 and 120 minutes from the start, counting the 10 already used
    row = clock_of(ticket)
    assert row.first_response_minutes == 15
    assert row.first_response_due == changed_at + timedelta(minutes=5)
    assert row.resolution_due == changed_at + timedelta(minutes=110)


def test_the_first_policy_whose_conditions_hold_is_taken(clock, employee, tier1):
    # given: a policy for the Finance department first, then the standard one
    finance = people_factories.DepartmentFactory(name="Finance")
    calendar = factories.always_open()
    factories.policy(
        "Finance",
        on=calendar,
        order=1,
        department=finance,
        targets={Priority.MEDIUM: (10, None, 60)},
    )
    factories.policy("Standard", on=calendar, order=2)
    accountant = people_factories.UserFactory(department=finance)
    # when
    theirs = open_at(MONDAY_10, requester=accountant)
    others = open_at(MONDAY_10, requester=employee)
    # then
    assert clock_of(theirs).policy.name == "Finance"
    assert clock_of(theirs).first_response_due == MONDAY_10 + timedelta(minutes=10)
    assert clock_of(others).policy.name == "Standard"


def test_a_policy_without_a_target_for_the_priority_is_passed_over(clock, employee):
    calendar = factories.always_open()
    factories.policy(
        "Critical only", on=calendar, order=1, targets={Priority.CRITICAL: (5, None, 30)}
    )
    # when: a P3 ticket, and no other policy
    ticket = open_at(MONDAY_10, requester=employee)
    # then: a clock with no targets
    row = clock_of(ticket)
    assert row.policy is None
    assert row.first_response_due is None and row.resolution_due is None
    assert state_of(row) is None


def test_the_sweep_records_at_risk_then_breached_once_each_as_the_sla_user(clock, employee):
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, None)})
    ticket = open_at(MONDAY_10, requester=employee)
    # when: swept before, at 50 minutes (at risk), again, and after the due time
    assert services.sweep(at=MONDAY_10 + timedelta(minutes=30)) == 0
    assert services.sweep(at=MONDAY_10 + timedelta(minutes=50)) == 1
    assert services.sweep(at=MONDAY_10 + timedelta(minutes=55)) == 0
    assert services.sweep(at=MONDAY_10 + timedelta(minutes=61)) == 1
    assert services.sweep(at=MONDAY_10 + timedelta(hours=5)) == 0
    # then: two entries on the ticket's history, by the sla system user
    entries = [h for h in history_of(ticket) if h.action.startswith("marked")]
    assert [h.action for h in entries] == ["marked at risk", "marked breached"]
    assert {h.actor.username for h in entries} == {"tierline-sla"}
    assert "First response target missed" in entries[1].summary
    row = clock_of(ticket)
    assert row.breached and row.next_check_at is None


def test_a_target_missed_between_sweeps_is_one_entry(clock, employee):
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, None)})
    ticket = open_at(MONDAY_10, requester=employee)
    assert services.sweep(at=MONDAY_10 + timedelta(hours=2)) == 1
    assert [h.action for h in history_of(ticket) if h.action.startswith("marked")] == [
        "marked breached"
    ]


def test_a_paused_ticket_is_not_swept(clock, employee, tier1):
    factories.policy(on=factories.always_open())
    ticket = open_at(MONDAY_10, requester=employee)
    clock.advance(minutes=5)
    desk_services.change_status(ticket=ticket, by=tier1, status=Status.WAITING_THIRD_PARTY)
    assert services.sweep(at=MONDAY_10 + timedelta(days=2)) == 0


def test_closures_of_a_calendar_are_not_counted(clock, employee):
    factories.policy(on=factories.calendar(closures=(date(2026, 6, 2),)))
    monday_close = datetime(2026, 6, 1, 15, 30, tzinfo=UTC)  # 16:30 London
    clock.now = monday_close
    ticket = open_at(monday_close, requester=employee)
    # Tuesday 2 June is closed: Wednesday 09:30 London
    assert clock_of(ticket).first_response_due == datetime(2026, 6, 3, 8, 30, tzinfo=UTC)


def test_a_breach_escalates_to_the_next_tier_when_the_policy_says_so(clock, employee):
    # given: a policy that escalates on breach and raises the urgency when at risk
    factories.policy(
        on=factories.always_open(),
        targets={Priority.MEDIUM: (60, None, None), Priority.HIGH: (60, None, None)},
        at_risk_action="raise_urgency",
        breach_action="escalate",
    )
    ticket = open_at(MONDAY_10, requester=employee)
    # when: swept at risk (urgency high: P2, the same 60 minutes), then breached
    services.sweep(at=clock.advance(minutes=50))
    ticket.refresh_from_db()
    assert (ticket.urgency, ticket.priority) == (Level.HIGH, Priority.HIGH)
    services.sweep(at=clock.advance(minutes=20))
    # then: at Tier 2, and the history says who did what, as the sla user
    ticket.refresh_from_db()
    assert ticket.tier == 2
    by_sla = [h for h in history_of(ticket) if h.actor and h.actor.username == "tierline-sla"]
    actions = [h.action for h in by_sla]
    assert actions[:2] == ["marked at risk", "changed"]
    assert "marked breached" in actions and "escalated" in actions
    # the sweep's actions ran again through the desk's events: nothing recorded twice
    assert services.sweep(at=clock.advance(minutes=10)) == 0


def test_an_action_the_desk_refuses_is_written_not_raised(clock, employee, tier3):
    factories.policy(
        on=factories.always_open(),
        targets={Priority.MEDIUM: (60, None, None)},
        breach_action="escalate",
    )
    ticket = open_at(MONDAY_10, requester=employee, team=people_factories.team(3))
    # when
    assert services.sweep(at=MONDAY_10 + timedelta(hours=2)) == 1
    # then
    skipped = [h for h in history_of(ticket) if h.action == "escalation skipped"]
    assert len(skipped) == 1 and "already at Tier 3" in skipped[0].summary


def test_a_target_overdue_when_the_ticket_starts_waiting_stays_breached(clock, employee, tier1):
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, None)})
    ticket = open_at(MONDAY_10, requester=employee)
    # when: no answer for 2 hours, then the ticket waits on a supplier (before any sweep)
    clock.advance(hours=2)
    desk_services.change_status(ticket=ticket, by=tier1, status=Status.WAITING_THIRD_PARTY)
    # then
    assert state_of(clock_of(ticket), clock.now) == State.BREACHED


# --- what opening a ticket reads ------------------------------------------------------------


def test_a_new_tickets_clock_starts_from_what_the_event_says_without_reading_it_back(
    clock, employee, monkeypatch
):
    # given a VIP in Finance, and a policy for Finance's VIPs
    finance = people_factories.DepartmentFactory(name="Finance")
    factories.policy(
        "Finance VIPs",
        on=factories.always_open(),
        department=finance,
        vip_only=True,
        targets={Priority.MEDIUM: (10, None, 60)},
    )
    boss = people_factories.UserFactory(department=finance, is_vip=True)
    monkeypatch.setattr(
        services.desk_queries, "clock_facts", lambda ticket_id: pytest.fail("read back")
    )
    # when their ticket is opened
    ticket = open_at(MONDAY_10, requester=boss)
    # then its clock runs on that policy from the opening time
    row = clock_of(ticket)
    assert (row.policy.name, row.requester_id, row.started_at) == (
        "Finance VIPs",
        boss.pk,
        MONDAY_10,
    )
    assert row.first_response_due == MONDAY_10 + timedelta(minutes=10)


def test_tickets_opened_in_one_batch_read_the_policies_once(clock, employee):
    # given two policies
    calendar = factories.always_open()
    factories.policy("First", on=calendar, order=1, vip_only=True)
    factories.policy("Standard", on=calendar, order=2)
    # when three tickets are opened in one batch of work (a spool drain's)
    with batch.scope(), CaptureQueriesContext(connection) as queries:
        tickets = [open_at(MONDAY_10, requester=employee) for _ in range(3)]
    # then the policies and their targets were read once, and every clock has its policy
    policy_reads = [q["sql"] for q in queries if 'FROM "sla_policy"' in q["sql"]]
    target_reads = [q["sql"] for q in queries if 'FROM "sla_target"' in q["sql"]]
    assert (len(policy_reads), len(target_reads)) == (1, 1)
    assert [clock_of(t).policy.name for t in tickets] == ["Standard"] * 3

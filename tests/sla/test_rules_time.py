"""Time rules through the `sla-rules` job: tickets that waited in a status, in hours or business
days of a calendar, each rule firing once per ticket per waiting period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError

from tests.desk import factories as desk_factories
from tests.sla import factories
from tierline.core.scheduler import registered_jobs
from tierline.desk import services as desk_services
from tierline.desk.choices import Status
from tierline.desk.models import Ticket
from tierline.sla import jobs, rules
from tierline.sla.models import Rule, RuleEmail, RuleFiring, RuleTrigger, WaitUnit

pytestmark = pytest.mark.django_db

MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, monkeypatch, start: datetime) -> None:
        self.now = start
        monkeypatch.setattr(rules, "now", lambda: self.now)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch, MONDAY_10)


def waiting_ticket(employee, tier1, *, updated: datetime = MONDAY_10) -> Ticket:
    ticket = desk_factories.ticket(employee)
    desk_services.assign(ticket=ticket, by=tier1, assignee=tier1)
    desk_services.change_status(ticket=ticket, by=tier1, status=Status.WAITING_REQUESTER)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=updated)  # waited since then
    return ticket


def time_rule(**fields) -> Rule:
    fields.setdefault("actions", [{"action": "send_email", "subject": "Still there?", "body": "?"}])
    row = Rule(name=fields.pop("name", "Chase"), trigger=RuleTrigger.TIME, **fields)
    row.full_clean()
    row.save()
    return row


def sweep() -> int:
    jobs.enqueue_time_rules()  # the immediate backend runs the task here
    return RuleFiring.objects.count()


def test_the_job_is_registered():
    assert "sla-rules" in {job.name for job in registered_jobs()}
    assert "sla-rule-emails" in {job.name for job in registered_jobs()}


def test_five_business_days_waiting_on_the_requester(employee, tier1, clock):
    time_rule(
        wait_status=Status.WAITING_REQUESTER,
        wait_amount=5,
        wait_unit=WaitUnit.BUSINESS_DAYS,
        calendar=factories.calendar(zone="UTC"),
    )
    ticket = waiting_ticket(employee, tier1)
    # Friday: Tuesday to Friday are four business days
    clock.now = MONDAY_10 + timedelta(days=4, hours=2)
    assert sweep() == 0
    # Sunday: the weekend does not count
    clock.now = MONDAY_10 + timedelta(days=6)
    assert sweep() == 0
    # the next Monday is the fifth
    clock.now = MONDAY_10 + timedelta(days=7, hours=-1)
    assert sweep() == 1
    firing = RuleFiring.objects.get()
    assert firing.trigger == "time" and firing.ticket_id == ticket.pk
    assert firing.period == MONDAY_10
    assert RuleEmail.objects.get().ticket_id == ticket.pk
    # once per waiting period: the next sweep leaves it alone
    clock.now += timedelta(days=1)
    assert sweep() == 1


def test_hours_and_a_new_waiting_period_fires_again(employee, tier1, clock):
    time_rule(wait_amount=48, wait_unit=WaitUnit.HOURS, wait_status=Status.WAITING_REQUESTER)
    ticket = waiting_ticket(employee, tier1)
    clock.now = MONDAY_10 + timedelta(hours=47)
    assert sweep() == 0
    clock.now = MONDAY_10 + timedelta(hours=48)
    assert sweep() == 1
    # the requester answers, the desk waits again: a new period
    later = MONDAY_10 + timedelta(days=5)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=later)
    clock.now = later + timedelta(hours=49)
    assert sweep() == 2
    assert RuleFiring.objects.filter(ticket=ticket).count() == 2


def test_only_tickets_in_the_status_and_matching_the_conditions(employee, tier1, clock):
    time_rule(
        wait_amount=1,
        wait_unit=WaitUnit.HOURS,
        wait_status=Status.WAITING_REQUESTER,
        conditions=[{"field": "subject", "op": "contains", "value": "printer"}],
    )
    waiting_ticket(employee, tier1)  # "Printer on floor 2 jams"
    other = desk_factories.ticket(employee, subject="Laptop")
    Ticket.objects.filter(pk=other.pk).update(updated_at=MONDAY_10)
    new = desk_factories.ticket(employee, subject="Printer again")  # status new, not waiting
    Ticket.objects.filter(pk=new.pk).update(updated_at=MONDAY_10)
    clock.now = MONDAY_10 + timedelta(hours=3)
    assert sweep() == 1


def test_a_time_rule_that_closes_a_waiting_ticket(employee, tier1, clock):
    time_rule(
        name="Auto-close",
        wait_amount=72,
        wait_unit=WaitUnit.HOURS,
        wait_status=Status.WAITING_REQUESTER,
        actions=[
            {
                "action": "close",
                "code": "user-cancelled",
                "note": "No answer, {requester_first_name}.",
            }
        ],
    )
    ticket = waiting_ticket(employee, tier1)
    clock.now = MONDAY_10 + timedelta(days=4)
    assert sweep() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.resolution_note == "No answer, Erin."
    # closed tickets are no longer candidates
    clock.now += timedelta(days=10)
    assert sweep() == 1


def test_the_sweep_reads_only_tickets_that_can_match(employee, tier1, clock):
    vip_rule = time_rule(
        wait_amount=1,
        wait_unit=WaitUnit.HOURS,
        conditions=[
            {"field": "priority", "op": "is_not", "value": 4},
            {"field": "assignee", "op": "is_set", "value": True},
            {"field": "category", "op": "not_in", "value": [1]},
        ],
    )
    # older tickets that can't match (unassigned) come first by updated_at
    for n in range(3):
        other = desk_factories.ticket(employee, subject=f"Other {n}")
        Ticket.objects.filter(pk=other.pk).update(updated_at=MONDAY_10 - timedelta(days=n + 1))
    ticket = waiting_ticket(employee, tier1)
    clock.now = MONDAY_10 + timedelta(hours=2)
    assert rules.sweep_time_rules(limit=1) == 1
    assert RuleFiring.objects.get(rule=vip_rule).ticket_id == ticket.pk


def test_a_period_already_claimed_is_not_fired_twice(employee, tier1, clock):
    row = time_rule(wait_amount=1, wait_unit=WaitUnit.HOURS)
    ticket = waiting_ticket(employee, tier1)
    clock.now = MONDAY_10 + timedelta(hours=2)
    rules.fire(row, ticket, trigger="time", at=clock.now, period=MONDAY_10)
    # a second sweeper that read the ticket before the first committed: refused by the row
    with pytest.raises(IntegrityError):
        rules.fire(row, ticket, trigger="time", at=clock.now, period=MONDAY_10)
    assert RuleEmail.objects.count() == 1
    assert rules.sweep_time_rules() == 0

"""A category change retargets the clock (issue 10 point 2): the desk's CategoryChanged, heard
in its transaction, takes the policy that matches now and keeps the business time used, as a
priority change does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.desk import factories as desk_factories
from tests.sla import factories
from tierline.desk import services as desk_services
from tierline.desk.choices import Priority
from tierline.desk.models import Category
from tierline.sla import services
from tierline.sla.models import TicketClock

pytestmark = pytest.mark.django_db

MONDAY_10 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def now(monkeypatch):
    moment = {"at": MONDAY_10}
    monkeypatch.setattr(services, "now", lambda: moment["at"])
    return moment


def test_a_category_change_takes_the_policy_of_the_new_category_keeping_the_time_used(
    now, employee, tier1
):
    # given: servers have a tight policy, everything else the standard one
    servers = Category.objects.create(name="Servers (retarget)")
    calendar = factories.always_open()
    factories.policy(
        "Servers", on=calendar, order=1, category=servers, targets={Priority.MEDIUM: (15, None, 60)}
    )
    factories.policy("Standard", on=calendar, order=2, targets={Priority.MEDIUM: (60, None, 480)})
    ticket = desk_factories.ticket(employee, created_at=MONDAY_10)
    assert TicketClock.objects.get(ticket=ticket).policy.name == "Standard"
    # when: ten minutes in, the ticket turns out to be about a server
    now["at"] = MONDAY_10 + timedelta(minutes=10)
    desk_services.change_fields(ticket=ticket, by=tier1, category=servers)
    # then: the servers' targets, counting the ten minutes already used
    clock = TicketClock.objects.get(ticket=ticket)
    assert clock.policy.name == "Servers"
    assert clock.used_seconds == 600
    assert clock.first_response_due == now["at"] + timedelta(minutes=5)
    assert clock.resolution_due == now["at"] + timedelta(minutes=50)
    # when: back out of the category twenty minutes later, the standard targets again
    now["at"] = MONDAY_10 + timedelta(minutes=30)
    desk_services.change_fields(ticket=ticket, by=tier1, category=None)
    clock = TicketClock.objects.get(ticket=ticket)
    assert clock.policy.name == "Standard"
    assert clock.used_seconds == 1800
    assert clock.first_response_due == MONDAY_10 + timedelta(minutes=60)
    assert clock.resolution_due == MONDAY_10 + timedelta(minutes=480)


def test_a_subject_change_leaves_the_clock_alone(now, employee, tier1):
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, 480)})
    ticket = desk_factories.ticket(employee, created_at=MONDAY_10)
    before = TicketClock.objects.get(ticket=ticket)
    now["at"] = MONDAY_10 + timedelta(minutes=10)
    desk_services.change_fields(ticket=ticket, by=tier1, subject="Printer on floor 3 jams")
    after = TicketClock.objects.get(ticket=ticket)
    assert (after.used_seconds, after.running_since, after.first_response_due) == (
        before.used_seconds,
        before.running_since,
        before.first_response_due,
    )

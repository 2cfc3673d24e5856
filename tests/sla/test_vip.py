"""A policy for VIP requesters only (the people app's VIP flag)."""

from __future__ import annotations

import pytest

from tests.desk import factories as desk_factories
from tests.sla import factories
from tierline.desk.choices import Priority
from tierline.sla.models import TicketClock

pytestmark = pytest.mark.django_db


def test_a_vip_requesters_ticket_takes_the_vip_policy(employee, employee2):
    calendar = factories.always_open()
    vip = factories.policy(
        "VIP", on=calendar, order=10, vip_only=True, targets={Priority.MEDIUM: (15, None, 120)}
    )
    standard = factories.policy(
        "Standard", on=calendar, order=20, targets={Priority.MEDIUM: (60, None, 480)}
    )
    employee.is_vip = True
    employee.save(update_fields=["is_vip"])
    theirs = desk_factories.ticket(employee)
    others = desk_factories.ticket(employee2)
    vip_clock = TicketClock.objects.get(ticket=theirs)
    other_clock = TicketClock.objects.get(ticket=others)
    assert (vip_clock.policy, vip_clock.first_response_minutes) == (vip, 15)
    assert (other_clock.policy, other_clock.first_response_minutes) == (standard, 60)


def test_a_vip_only_policy_alone_leaves_others_without_targets(employee):
    factories.policy("VIP", on=factories.always_open(), vip_only=True)
    ticket = desk_factories.ticket(employee)
    assert TicketClock.objects.get(ticket=ticket).policy is None

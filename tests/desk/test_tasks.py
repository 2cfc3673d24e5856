"""Background jobs of the desk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.desk.factories import ticket
from tierline.core.models import HistoryEntry
from tierline.desk import services
from tierline.desk.models import Status, Ticket
from tierline.desk.tasks import close_resolved_tickets
from tierline.people.services import system_user

pytestmark = pytest.mark.django_db


def _resolved(requester, tech, days_ago: int) -> Ticket:
    t = ticket(requester)
    services.take(ticket=t, by=tech)
    services.resolve(ticket=t, by=tech, resolution_code="fixed", body="Done.")
    Ticket.objects.filter(pk=t.pk).update(resolved_at=timezone.now() - timedelta(days=days_ago))
    return t


def test_close_resolved_tickets_closes_only_old_ones(employee, tier1):
    # given
    old, recent = _resolved(employee, tier1, 10), _resolved(employee, tier1, 2)
    # when
    result = close_resolved_tickets.enqueue()
    # then
    assert result.return_value == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == Status.CLOSED and old.closed_at is not None
    assert recent.status == Status.RESOLVED


def test_close_resolved_tickets_is_safe_to_run_twice(employee, tier1):
    # given
    _resolved(employee, tier1, 10)
    # when
    first = close_resolved_tickets.call()
    second = close_resolved_tickets.call()
    # then
    assert (first, second) == (1, 0)


def test_auto_close_is_recorded_as_the_scheduler_system_user(employee, tier1):
    # given
    old = _resolved(employee, tier1, 10)
    # when
    close_resolved_tickets.call()
    # then
    entry = HistoryEntry.objects.filter(object_id=old.pk, action="closed").get()
    assert entry.actor == system_user("scheduler")
    assert entry.actor.is_system and entry.actor.username == "tierline-scheduler"
    assert not entry.actor.is_active

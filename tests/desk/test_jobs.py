"""The desk's periodic jobs, as the scheduler finds and runs them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.desk.factories import ticket
from tierline.core.models import ScheduledJob
from tierline.core.scheduler import Scheduler, every, registered_jobs
from tierline.desk import jobs, services
from tierline.desk.models import Status, Ticket

pytestmark = pytest.mark.django_db


def test_the_desk_registers_auto_close_hourly():
    # then
    assert jobs.CLOSE_RESOLVED_TICKETS in registered_jobs()
    assert jobs.CLOSE_RESOLVED_TICKETS.name == "close-resolved-tickets"
    assert jobs.CLOSE_RESOLVED_TICKETS.schedule == every(minutes=60)


def test_the_scheduler_closes_old_resolved_tickets_once_an_hour(employee, tier1):
    # given
    old = ticket(employee)
    services.take(ticket=old, by=tier1)
    services.resolve(ticket=old, by=tier1, resolution_code="fixed", body="Replaced the cable.")
    Ticket.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    scheduler = Scheduler([jobs.CLOSE_RESOLVED_TICKETS])
    # when
    first, second = scheduler.run_due(), scheduler.run_due()
    # then
    assert (first, second) == (["close-resolved-tickets"], [])
    old.refresh_from_db()
    assert old.status == Status.CLOSED
    row = ScheduledJob.objects.get(name="close-resolved-tickets")
    assert row.next_run_at - row.last_started_at == timedelta(hours=1)

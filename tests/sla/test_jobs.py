"""The sweep runs every minute from the scheduler, once across schedulers (core's lease)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.sla import factories
from tierline.core.history import history_of
from tierline.core.models import ScheduledJob
from tierline.core.scheduler import Scheduler, every, registered_jobs
from tierline.desk.choices import Priority
from tierline.sla import jobs

pytestmark = pytest.mark.django_db


def test_the_sla_app_registers_its_sweep_every_minute():
    assert jobs.SWEEP_TARGETS in registered_jobs()
    assert jobs.SWEEP_TARGETS.schedule == every(minutes=1)


def test_two_schedulers_sweep_once_and_record_the_breach_once(employee):
    # given: a ticket whose first response was due an hour ago
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, None)})
    ticket = desk_factories.ticket(employee, created_at=timezone.now() - timedelta(hours=2))
    one, two = Scheduler([jobs.SWEEP_TARGETS]), Scheduler([jobs.SWEEP_TARGETS])
    # when: both find the job due
    ran = one.run_due() + two.run_due()
    # then: it ran once, and wrote one entry
    assert ran == ["sla-sweep"]
    assert [h.action for h in history_of(ticket) if h.action.startswith("marked")] == [
        "marked breached"
    ]
    row = ScheduledJob.objects.get(name="sla-sweep")
    assert row.next_run_at - row.last_started_at == timedelta(minutes=1)

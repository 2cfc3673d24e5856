"""The SLA sweep with tasks on Redis: two servers' and two workers' schedulers all find the
`sla-sweep` job due each minute; the scheduler's lease lets one of them enqueue the sweep, and one
of the two workers runs it. Three minutes, three sweeps, each run once.

The schedulers share a clock the test moves on, a minute at a time; the workers are the real
Redis workers, in this process (the process tests show the same with `tierline worker`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.core.redis_support import jobs_of
from tests.desk import factories as desk_factories
from tests.sla import factories
from tierline.core.history import history_of
from tierline.core.redis_tasks import RedisWorker
from tierline.core.scheduler import Scheduler
from tierline.desk.choices import Priority
from tierline.sla import jobs

pytestmark = pytest.mark.django_db

SWEEP = "tierline.sla.tasks.sweep_targets"
MINUTES = 3


def test_the_sla_sweep_runs_once_per_interval_across_two_servers_and_two_workers(
    redis_default_backend, employee, django_capture_on_commit_callbacks
):
    # given a ticket whose first response was due an hour ago
    factories.policy(on=factories.always_open(), targets={Priority.MEDIUM: (60, None, None)})
    ticket = desk_factories.ticket(employee, created_at=timezone.now() - timedelta(hours=2))
    # and two servers and two workers, each with its scheduler, on one clock
    now = [timezone.now()]

    def clock():
        return now[0]

    schedulers = [
        Scheduler([jobs.SWEEP_TARGETS], clock=clock, runner_id=name)
        for name in ("server-1", "server-2", "worker-1", "worker-2")
    ]
    workers = [
        RedisWorker(redis_default_backend, worker_id=name, lease=3, heartbeat=1)
        for name in ("worker-1", "worker-2")
    ]
    for worker in workers:
        worker.start()
    ran, taken = [], {"worker-1": 0, "worker-2": 0}
    try:
        for _minute in range(MINUTES):
            # when every scheduler looks for due jobs (the sweep is queued when its job commits)
            for scheduler in schedulers:
                with django_capture_on_commit_callbacks(execute=True):
                    ran += scheduler.run_due()
            # and the workers take what is queued, in turn
            busy = True
            while busy:
                busy = False
                for worker in workers:
                    if worker.run_one(timeout=0) is not None:
                        taken[worker.worker_id] += 1
                        busy = True
            now[0] += timedelta(minutes=1)
    finally:
        for worker in workers:
            worker.stop()
    # then the sweep was enqueued once a minute, and each ran once, on one worker
    assert ran == ["sla-sweep"] * MINUTES
    sweeps = jobs_of(redis_default_backend, SWEEP)
    assert len(sweeps) == MINUTES
    assert {s["status"] for s in sweeps} == {"SUCCESSFUL"}
    assert sum(taken.values()) == MINUTES
    assert all(len(s["worker_ids"].split(",")) == 1 for s in sweeps)
    # and the breach was written once
    assert [h.action for h in history_of(ticket) if h.action.startswith("marked")] == [
        "marked breached"
    ]

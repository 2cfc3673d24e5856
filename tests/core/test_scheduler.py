"""The periodic job scheduler."""

from __future__ import annotations

import pytest

from tierline.core.scheduler import JOBS, Job, Scheduler, SchedulerThread

# The scheduler tidies database connections between jobs, as Django does between requests.
pytestmark = pytest.mark.django_db


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_every_job_runs_at_start_then_after_its_interval():
    # given
    clock, ran = FakeClock(), []
    scheduler = Scheduler(
        [
            Job("fast", 60, lambda: ran.append("fast")),
            Job("slow", 3600, lambda: ran.append("slow")),
        ],
        clock=clock,
    )
    # when
    scheduler.run_due()
    clock.now += 61
    scheduler.run_due()
    # then
    assert ran == ["fast", "slow", "fast"]
    assert 0 < scheduler.seconds_to_next() <= 60


def test_a_failing_job_does_not_stop_the_others():
    # given
    def boom() -> None:
        raise RuntimeError("mail server down")

    ran = []
    scheduler = Scheduler([Job("boom", 60, boom), Job("ok", 60, lambda: ran.append("ok"))])
    # when
    done = scheduler.run_due()
    # then
    assert done == ["ok"] and ran == ["ok"]


def test_auto_close_runs_hourly():
    # then
    job = next(j for j in JOBS if j.name == "close-resolved-tickets")
    assert job.interval_seconds == 3600


def test_thread_stops_when_asked():
    # given
    ran = []
    thread = SchedulerThread(Scheduler([Job("tick", 3600, lambda: ran.append(1))]))
    # when
    thread.start()
    thread.stop()
    thread.join(timeout=5)
    # then
    assert not thread.is_alive()
    assert ran == [1]

"""The periodic job scheduler: schedules, the registry, the lease that lets one runner run a job."""

from __future__ import annotations

import ast
import inspect
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from tierline.core import scheduler as scheduler_module
from tierline.core.models import ScheduledJob
from tierline.core.scheduler import (
    Calendar,
    Every,
    Job,
    Scheduler,
    SchedulerThread,
    calendar,
    every,
    parse_schedule,
    register,
    registered_jobs,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utc(2026, 1, 5, 9, 0)

    def __call__(self) -> datetime:
        return self.now


# --- calendar schedules -------------------------------------------------------------------------


def test_weekdays_at_seven_in_london_skips_the_weekend():
    # given
    schedule = calendar(days="weekdays", at="07:00", zone="Europe/London")
    friday_after_seven = utc(2026, 1, 9, 8, 0)  # winter: London is on UTC
    # when
    due = schedule.next_due(friday_after_seven)
    # then
    assert due == utc(2026, 1, 12, 7, 0)  # Monday 07:00 GMT


def test_weekdays_at_seven_in_london_is_six_utc_in_summer():
    # given
    schedule = calendar(days="weekdays", at="07:00", zone="Europe/London")
    monday_early = utc(2026, 7, 6, 5, 0)
    # when
    due = schedule.next_due(monday_early)
    # then
    assert due == utc(2026, 7, 6, 6, 0)  # 07:00 BST the same day


def test_daily_seven_oclock_stays_seven_local_across_the_spring_change():
    # given: the clocks go forward at 01:00 UTC on Sunday 29 March 2026
    schedule = calendar(days="daily", at="07:00", zone="Europe/London")
    saturday_run = utc(2026, 3, 28, 7, 0)  # 07:00 GMT
    # when
    sunday = schedule.next_due(saturday_run)
    # then: 07:00 BST, 23 hours later
    assert sunday == utc(2026, 3, 29, 6, 0)
    assert sunday - saturday_run == timedelta(hours=23)


def test_a_time_the_spring_change_skips_runs_once_just_after_the_change():
    # given: 01:30 does not exist in London on 29 March 2026 (01:00 GMT becomes 02:00 BST)
    schedule = calendar(days="daily", at="01:30", zone="Europe/London")
    # when
    that_day = schedule.next_due(utc(2026, 3, 28, 12, 0))
    next_day = schedule.next_due(that_day)
    # then: 02:30 BST that day, then 01:30 BST as usual
    assert that_day == utc(2026, 3, 29, 1, 30)
    assert next_day == utc(2026, 3, 30, 0, 30)


def test_a_time_the_autumn_change_repeats_runs_once():
    # given: 01:30 happens twice in London on 25 October 2026 (BST, then GMT)
    schedule = calendar(days="daily", at="01:30", zone="Europe/London")
    # when
    first = schedule.next_due(utc(2026, 10, 24, 12, 0))
    after_first = schedule.next_due(first)
    # then: the first 01:30 (BST) only; the next run is the next day's
    assert first == utc(2026, 10, 25, 0, 30)
    assert after_first == utc(2026, 10, 26, 1, 30)


def test_a_run_at_the_exact_time_is_followed_by_the_next_one():
    # given
    schedule = calendar(days=["mon", "wed"], at="18:30", zone="UTC")
    monday_run = utc(2026, 1, 5, 18, 30)
    # when / then
    assert schedule.next_due(monday_run) == utc(2026, 1, 7, 18, 30)
    assert schedule.first_due(monday_run - timedelta(minutes=1)) == monday_run


def test_every_n_minutes_counts_from_the_last_start():
    # given
    schedule = every(hours=1, minutes=30)
    started = utc(2026, 1, 5, 9, 0)
    # then
    assert schedule == Every(90)
    assert schedule.first_due(started) == started
    assert schedule.next_due(started) == utc(2026, 1, 5, 10, 30)


@pytest.mark.parametrize(
    "text",
    ["every 60 min", "weekdays 07:00 Europe/London", "mon,wed,fri 18:30 UTC", "daily 00:00 UTC"],
)
def test_a_schedule_reads_back_from_its_text(text):
    # when
    schedule = parse_schedule(text)
    # then
    assert str(schedule) == text
    assert parse_schedule(str(schedule)) == schedule


def test_schedule_text_in_other_words():
    # then
    assert parse_schedule("every 2 hours") == every(minutes=120)
    assert parse_schedule("every 15 minutes") == every(minutes=15)
    assert parse_schedule("Saturday 23:00") == calendar(days="sat", at="23:00", zone="UTC")
    assert calendar(days=[0, 1, 2, 3, 4], at="07:00") == calendar(days="weekdays", at="07:00")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: every(minutes=0), "from 1 to"),
        (lambda: every(minutes=-5), "0 or more"),
        (lambda: every(minutes="5"), "whole number"),
        (lambda: every(minutes=True), "whole number"),
        (lambda: every(minutes=10**9), "from 1 to"),
        (lambda: calendar(days="funday", at="07:00"), "Unknown day 'funday'"),
        (lambda: calendar(days="", at="07:00"), "at least one day"),
        (lambda: calendar(days=[7], at="07:00"), "Unknown day 7"),
        (lambda: calendar(days=5, at="07:00"), "Days must be"),
        (lambda: calendar(days="weekdays", at="25:00"), "not a time of day"),
        (lambda: calendar(days="weekdays", at="7am"), "not a time of day"),
        (lambda: calendar(days="weekdays", at=None), "not a time of day"),
        (lambda: calendar(days="weekdays", at="07:00", zone="Mars/Olympus"), "Unknown time zone"),
        (lambda: calendar(days="weekdays", at="07:00", zone="../etc/passwd"), "Unknown time zone"),
        (lambda: calendar(days="weekdays", at="07:00", zone=""), "IANA name"),
        (lambda: Calendar(days=frozenset(), at=None, zone="UTC"), "Days of the week"),
        (lambda: parse_schedule("fortnightly"), "not a schedule"),
        (lambda: parse_schedule("every now and then"), "not an interval"),
        (lambda: parse_schedule(""), "is required"),
    ],
)
def test_a_bad_schedule_is_refused_with_a_clear_message(make, message):
    # when / then
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "Close Tickets"}, "lowercase letters"),
        ({"name": ""}, "lowercase letters"),
        ({"schedule": 3600}, "every\\(\\) or calendar\\(\\)"),
        ({"run": "close_tickets"}, "must be callable"),
        ({"lease": timedelta(seconds=1)}, "at least 10 seconds"),
    ],
)
def test_a_bad_job_is_refused_when_registered(kwargs, message):
    # given
    job = {"name": "tidy-up", "schedule": every(minutes=5), "run": lambda: None} | kwargs
    # when / then
    with pytest.raises(ValueError, match=message):
        register(**job)
    assert "tidy-up" not in [j.name for j in registered_jobs()]


def test_a_job_name_is_registered_once():
    # when / then: the desk registered this one when Django started
    with pytest.raises(ValueError, match="already registered"):
        register("close-resolved-tickets", schedule=every(minutes=5), run=lambda: None)


def test_core_names_no_app_the_desk_registers_its_own_job():
    # given
    tree = ast.parse(inspect.getsource(scheduler_module))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    # then
    assert {m for m in imported if m.startswith("tierline.")} <= {"tierline.core.models"}
    job = next(j for j in registered_jobs() if j.name == "close-resolved-tickets")
    assert job.schedule == every(minutes=60)
    assert job.run.__module__ == "tierline.desk.jobs"


# --- running jobs once, with a lease in the database --------------------------------------------


@pytest.mark.django_db
def test_a_new_interval_job_runs_at_once_then_after_its_interval():
    # given
    clock, ran = FakeClock(), []
    jobs = [
        Job("fast", every(minutes=1), lambda: ran.append("fast")),
        Job("slow", every(minutes=60), lambda: ran.append("slow")),
    ]
    scheduler = Scheduler(jobs, clock=clock)
    # when
    first = scheduler.run_due()
    clock.now += timedelta(seconds=30)
    second = scheduler.run_due()
    clock.now += timedelta(seconds=31)
    third = scheduler.run_due()
    # then
    assert (first, second, third) == (["fast", "slow"], [], ["fast"])
    assert ran == ["fast", "slow", "fast"]
    assert 0 < scheduler.seconds_to_next() <= 60
    row = ScheduledJob.objects.get(name="fast")
    assert row.last_started_at == clock.now and row.last_finished_at == clock.now
    assert row.next_run_at == clock.now + timedelta(minutes=1)
    assert row.leased_by == "" and row.leased_until is None and row.schedule == "every 1 min"


@pytest.mark.django_db
def test_a_restart_does_not_run_every_job_again():
    # given a scheduler that ran its job, then stopped
    clock, ran = FakeClock(), []
    jobs = [Job("hourly", every(minutes=60), lambda: ran.append(1))]
    Scheduler(jobs, clock=clock).run_due()
    # when a new one starts ten minutes later, and again after the hour
    clock.now += timedelta(minutes=10)
    after_restart = Scheduler(jobs, clock=clock).run_due()
    clock.now += timedelta(minutes=50)
    after_the_hour = Scheduler(jobs, clock=clock).run_due()
    # then
    assert (after_restart, after_the_hour) == ([], ["hourly"])
    assert ran == [1, 1]


@pytest.mark.django_db
def test_a_new_calendar_job_waits_for_its_time():
    # given Monday 09:00 UTC
    clock, ran = FakeClock(utc(2026, 1, 5, 9, 0)), []
    jobs = [Job("morning", calendar(days="weekdays", at="07:00"), lambda: ran.append(1))]
    scheduler = Scheduler(jobs, clock=clock)
    # when
    at_start = scheduler.run_due()
    clock.now = utc(2026, 1, 6, 7, 0)
    next_morning = scheduler.run_due()
    # then
    assert (at_start, next_morning) == ([], ["morning"])
    assert ScheduledJob.objects.get(name="morning").next_run_at == utc(2026, 1, 7, 7, 0)


@pytest.mark.django_db
def test_a_failing_job_is_recorded_and_does_not_stop_the_others():
    # given
    def boom() -> None:
        raise RuntimeError("mail server down")

    clock, ran = FakeClock(), []
    jobs = [Job("boom", every(minutes=5), boom), Job("ok", every(minutes=5), lambda: ran.append(1))]
    # when
    done = Scheduler(jobs, clock=clock).run_due()
    # then
    assert done == ["ok"] and ran == [1]
    failed = ScheduledJob.objects.get(name="boom")
    assert failed.last_error.startswith("RuntimeError: mail server down")
    assert failed.next_run_at == clock.now + timedelta(minutes=5)  # not retried in a loop
    assert failed.leased_until is None
    assert ScheduledJob.objects.get(name="ok").last_error == ""


@pytest.mark.django_db
def test_a_job_that_succeeds_again_clears_its_last_error():
    # given
    clock, fail = FakeClock(), [True]

    def flaky() -> None:
        if fail[0]:
            raise RuntimeError("timeout")

    scheduler = Scheduler([Job("flaky", every(minutes=5), flaky)], clock=clock)
    scheduler.run_due()
    # when
    fail[0] = False
    clock.now += timedelta(minutes=5)
    done = scheduler.run_due()
    # then
    assert done == ["flaky"]
    assert ScheduledJob.objects.get(name="flaky").last_error == ""


@pytest.mark.django_db
def test_a_job_leased_by_a_live_runner_is_left_alone_until_its_lease_expires():
    # given another runner took the job a minute ago, with a fifteen-minute lease
    clock, ran = FakeClock(), []
    jobs = [Job("report", every(minutes=5), lambda: ran.append(1))]
    ScheduledJob.objects.create(
        name="report",
        schedule="every 5 min",
        next_run_at=clock.now - timedelta(minutes=1),
        leased_by="other-host:123:abcd",
        leased_until=clock.now + timedelta(minutes=14),
    )
    scheduler = Scheduler(jobs, clock=clock)
    # when it is still running, then when its runner died and the lease ran out
    while_leased = scheduler.run_due()
    clock.now += timedelta(minutes=15)
    after_expiry = scheduler.run_due()
    # then
    assert (while_leased, after_expiry) == ([], ["report"])
    row = ScheduledJob.objects.get(name="report")
    assert row.leased_by == "" and row.last_finished_at == clock.now


@pytest.mark.django_db
def test_a_runner_whose_lease_was_taken_over_does_not_overwrite_the_new_holder():
    # given a job that outlives its lease, taken over meanwhile by another runner
    clock = FakeClock()

    def slow() -> None:
        clock.now += timedelta(minutes=20)
        ScheduledJob.objects.filter(name="slow").update(
            leased_by="other", leased_until=clock.now + timedelta(minutes=15)
        )

    # when
    Scheduler([Job("slow", every(minutes=60), slow)], clock=clock, runner_id="me").run_due()
    # then
    row = ScheduledJob.objects.get(name="slow")
    assert row.leased_by == "other" and row.last_finished_at is None


@pytest.mark.django_db
def test_a_changed_schedule_moves_the_next_run():
    # given a job that ran hourly, last at 09:00
    clock = FakeClock()
    Scheduler([Job("sync", every(minutes=60), lambda: None)], clock=clock).run_due()
    # when it is now every 15 minutes
    clock.now += timedelta(minutes=20)
    done = Scheduler([Job("sync", every(minutes=15), lambda: None)], clock=clock).run_due()
    # then it was due at 09:15, so it runs now, and next at 09:35
    assert done == ["sync"]
    row = ScheduledJob.objects.get(name="sync")
    assert row.schedule == "every 15 min" and row.next_run_at == clock.now + timedelta(minutes=15)


@pytest.mark.django_db
def test_a_long_job_does_not_run_again_straight_after():
    # given a five-minute job that takes twelve minutes
    clock = FakeClock()
    started = clock.now

    def long() -> None:
        clock.now += timedelta(minutes=12)

    # when
    Scheduler(
        [Job("long", every(minutes=5), long, lease=timedelta(minutes=30))], clock=clock
    ).run_due()
    # then
    assert ScheduledJob.objects.get(name="long").next_run_at == started + timedelta(minutes=17)


@pytest.mark.django_db
def test_a_scheduler_without_jobs_asks_nothing_and_naps_a_minute(django_assert_num_queries):
    # given
    scheduler = Scheduler([], clock=FakeClock())
    # when
    with django_assert_num_queries(0):
        ran = scheduler.run_due()
    # then
    assert ran == [] and scheduler.seconds_to_next() == 60


@pytest.mark.django_db
def test_a_job_leaves_the_transaction_it_runs_in_alone():
    # given the test's transaction, and a job that leaves its connection past its age
    def ages_the_connection() -> None:
        connection.close_at = 0  # as if CONN_MAX_AGE had passed long ago
        ScheduledJob.objects.create(name="made-by-the-job", next_run_at=timezone.now())

    # when
    Scheduler([Job("ager", every(minutes=5), ages_the_connection)]).run_due()
    # then: still the same transaction, the job's row still in it
    assert connection.in_atomic_block and connection.connection is not None
    assert ScheduledJob.objects.filter(name="made-by-the-job").exists()


@pytest.mark.django_db(transaction=True)
def test_an_obsolete_connection_is_closed_after_a_job(monkeypatch):
    # given a job that leaves its connection past its age, outside any transaction
    closed, close = [], connection.close

    def ages_the_connection() -> None:
        connection.ensure_connection()
        connection.close_at = 0

    def recording_close() -> None:
        closed.append(connection.close_at)
        close()

    monkeypatch.setattr(connection, "close", recording_close)
    # when
    Scheduler([Job("ager", every(minutes=5), ages_the_connection)]).run_due()
    # then: closed after the job, as Django does after a request, and the job recorded as done
    assert 0 in closed  # (with CONN_MAX_AGE=0 the one before the job was closed too)
    assert ScheduledJob.objects.get(name="ager").last_error == ""


class RacingClock:
    """The real time; but the scheduler's look at the clock just before it claims a job waits for
    the other scheduler, so that both have seen the job due and both claim it at the same moment."""

    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier, self.calls = barrier, 0

    def __call__(self) -> datetime:
        self.calls += 1
        if self.calls == 2:  # 1: reading the rows; 2: the job's due check and claim
            self.barrier.wait(timeout=20)
        return timezone.now()


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_racing_for_a_due_job_run_it_exactly_once():
    # given a job that is due, and two schedulers in two threads, each with its own connection
    rounds, runs, lock = 10, [], threading.Lock()

    def job() -> None:
        with lock:
            runs.append(threading.current_thread().name)
        time.sleep(0.1)  # still running while the other scheduler tries to claim it

    jobs = [Job("nightly-report", every(minutes=60), job)]
    Scheduler(jobs).run_due()  # creates the row (and runs once)
    runs.clear()
    errors: list[BaseException] = []

    def scheduler_thread(barrier: threading.Barrier, ran: list[list[str]]) -> None:
        try:
            ran.append(Scheduler(jobs, clock=RacingClock(barrier)).run_due())
        except BaseException as exc:  # seen by the test, not lost in the thread
            errors.append(exc)
            barrier.abort()
        finally:
            connections.close_all()

    claimed = []
    for _ in range(rounds):
        ScheduledJob.objects.filter(name="nightly-report").update(next_run_at=timezone.now())
        barrier, ran = threading.Barrier(2), []
        threads = [
            threading.Thread(target=scheduler_thread, args=(barrier, ran), name=f"scheduler-{n}")
            for n in (1, 2)
        ]
        # when both check and claim at once
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        claimed.append(sorted(ran))
    # then each round exactly one of them ran it
    assert claimed == [[[], ["nightly-report"]]] * rounds
    assert len(runs) == rounds


@pytest.mark.django_db(transaction=True)  # the thread writes through its own connection
def test_thread_runs_due_jobs_and_stops_when_asked():
    # given
    ran = threading.Event()
    thread = SchedulerThread(Scheduler([Job("tick", every(minutes=60), ran.set)]))
    # when
    thread.start()
    assert ran.wait(timeout=10)
    thread.stop()
    thread.join(timeout=5)
    # then
    assert not thread.is_alive()

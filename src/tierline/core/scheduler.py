"""Periodic jobs: schedules, the registry apps add their jobs to, and the loop that runs them.

Each app registers its own jobs when Django starts (from its `AppConfig.ready`, usually by
importing its `jobs.py`); core names no app. A job runs on a schedule:

    every(minutes=60)                                         counted from its last start
    calendar(days="weekdays", at="07:00", zone="Europe/London")   wall-clock time in a zone

Many schedulers may run at once (each `tierline serve` worker process runs one, `tierline worker`
runs one, on as many machines as there are). The `core.ScheduledJob` row of a job decides which of
them runs it: a scheduler claims a due job with one conditional UPDATE that takes a lease
(`leased_by`, `leased_until`), and only the one whose UPDATE changed the row runs the job. When it
finishes it writes the next due time, computed from the schedule, and gives the lease back. A
runner that dies holding a lease loses it when `leased_until` passes, and another runs the job.
So a due job runs once across all servers and workers (twice only if its runner died or it ran
longer than its lease: jobs stay safe to run twice), and a restart does not rerun every job.

The times compared are each scheduler's own clock: keep the servers' clocks in sync (NTP).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import socket
import threading
import time as monotonic_time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import connections
from django.db.models import Q
from django.utils import timezone

from tierline.core.models import ScheduledJob

logger = logging.getLogger(__name__)

MAX_INTERVAL_MINUTES = 366 * 24 * 60
JOB_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NUMBERS = {
    name: number
    for number, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
DAY_GROUPS: dict[str, frozenset[int]] = {
    "daily": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}


# --- schedules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Every:
    """Every N minutes, counted from the job's last start. A new job is due at once."""

    minutes: int

    def __post_init__(self) -> None:
        if (
            isinstance(self.minutes, bool)
            or not isinstance(self.minutes, int)
            or not 1 <= self.minutes <= MAX_INTERVAL_MINUTES
        ):
            raise ValueError(
                f"An interval is a whole number of minutes from 1 to {MAX_INTERVAL_MINUTES}, "
                f"not {self.minutes!r}."
            )

    def first_due(self, now: datetime) -> datetime:
        return now

    def next_due(self, after: datetime) -> datetime:
        return after + timedelta(minutes=self.minutes)

    def __str__(self) -> str:
        return f"every {self.minutes} min"


@dataclass(frozen=True)
class Calendar:
    """At one time of day on some days of the week, in one IANA time zone.

    Daylight saving: a time that does not exist on a spring-forward day (01:30 in London on the
    last Sunday of March) runs when the clocks have gone forward, at the same distance past the
    change (02:30 local, 01:30 UTC); a time that happens twice on a fall-back day runs at its first
    occurrence only. Either way the job runs once that day.
    """

    days: frozenset[int]  # 0 is Monday, as date.weekday()
    at: time
    zone: str
    tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            days = frozenset(self.days)
        except TypeError:
            days = frozenset()
        if not days or not days <= frozenset(range(7)):
            raise ValueError(f"Days of the week are 0 (Monday) to 6 (Sunday), not {self.days!r}.")
        if not isinstance(self.at, time) or self.at.tzinfo is not None:
            raise ValueError(f"The time of day must be a time without a zone, not {self.at!r}.")
        object.__setattr__(self, "days", days)
        object.__setattr__(self, "at", self.at.replace(second=0, microsecond=0))
        object.__setattr__(self, "tz", _zone(self.zone))

    def first_due(self, now: datetime) -> datetime:
        return self.next_due(now)

    def next_due(self, after: datetime) -> datetime:
        """The first run strictly after `after` (aware), in UTC."""
        local_day = after.astimezone(self.tz).date()
        for offset in range(8):
            day = local_day + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            moment = self._on(day)
            if moment > after:
                return moment
        raise AssertionError("a weekly schedule always has a run within eight days")

    def _on(self, day: date) -> datetime:
        # fold=0: an ambiguous (fall-back) time is its first occurrence; a missing
        # (spring-forward) time is read with the offset before the change, which lands it
        # the gap's length after the change.
        return datetime.combine(day, self.at, tzinfo=self.tz).astimezone(UTC)

    def __str__(self) -> str:
        return f"{_days_text(self.days)} {self.at:%H:%M} {self.zone}"


Schedule = Every | Calendar


def every(*, minutes: int = 0, hours: int = 0) -> Every:
    """Every N minutes (or hours), counted from the last start: `every(minutes=15)`."""
    for name, value in (("minutes", minutes), ("hours", hours)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number, 0 or more, not {value!r}.")
    return Every(minutes + 60 * hours)


def calendar(*, days: str | Iterable[int | str], at: str | time, zone: str = "UTC") -> Calendar:
    """At a time of day on some days, in a zone: `calendar(days="weekdays", at="07:00",
    zone="Europe/London")`. Days: "daily", "weekdays", "weekends", "mon,wed,fri", or a list of
    names or numbers (0 is Monday)."""
    return Calendar(days=_parse_days(days), at=_parse_time(at), zone=zone)


def parse_schedule(text: str) -> Schedule:
    """A schedule from its text, as `str(schedule)` writes it ("every 60 min",
    "weekdays 07:00 Europe/London"); also "every 2 hours", "every 15 minutes"."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("A schedule is required, e.g. “every 60 min” or “weekdays 07:00 UTC”.")
    words = text.split()
    if words[0].lower() == "every":
        match = re.fullmatch(
            r"every\s+(\d{1,7})\s*(min|mins|minute|minutes|h|hour|hours)", text.strip(), re.I
        )
        if not match:
            raise ValueError(f"“{text}” is not an interval: write e.g. “every 15 min”.")
        number, unit = int(match[1]), match[2].lower()
        return every(hours=number) if unit.startswith("h") else every(minutes=number)
    if len(words) not in (2, 3):
        raise ValueError(
            f"“{text}” is not a schedule: write “DAYS HH:MM [ZONE]”, e.g. "
            "“weekdays 07:00 Europe/London”, or “every 15 min”."
        )
    return calendar(days=words[0], at=words[1], zone=words[2] if len(words) == 3 else "UTC")


def _zone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValueError(f"A time zone is an IANA name such as Europe/London, not {name!r}.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"Unknown time zone {name!r}: use an IANA name such as Europe/London or UTC."
        ) from None


def _parse_time(value: str | time) -> time:
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip()) if isinstance(value, str) else None
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"{value!r} is not a time of day: write HH:MM, 00:00 to 23:59.")
    return time(int(match[1]), int(match[2]))


def _parse_days(value: str | Iterable[int | str]) -> frozenset[int]:
    if isinstance(value, str):
        parts: list[object] = value.replace(",", " ").split()
    else:
        try:
            parts = list(value)
        except TypeError:
            raise ValueError(f"Days must be a text or a list of days, not {value!r}.") from None
    days: set[int] = set()
    for part in parts:
        word = part.strip().lower() if isinstance(part, str) else None
        if isinstance(part, int) and not isinstance(part, bool) and 0 <= part <= 6:
            days.add(part)
        elif word in DAY_GROUPS:
            days |= DAY_GROUPS[word]
        elif word in DAY_NUMBERS:
            days.add(DAY_NUMBERS[word])
        else:
            raise ValueError(
                f"Unknown day {part!r}: use mon, tue, wed, thu, fri, sat, sun (or 0-6, Monday "
                "first), weekdays, weekends or daily."
            )
    if not days:
        raise ValueError("A calendar schedule needs at least one day of the week.")
    return frozenset(days)


def _days_text(days: frozenset[int]) -> str:
    for name, group in DAY_GROUPS.items():
        if days == group:
            return name
    return ",".join(DAY_NAMES[d] for d in sorted(days))


# --- jobs and their registry ----------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A periodic job: a name (lowercase, digits, dashes), a schedule and what to run.

    `lease` is how long a runner may hold the job before others think it died: longer than the
    job ever runs."""

    name: str
    schedule: Schedule
    run: Callable[[], object]
    lease: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not JOB_NAME.match(self.name):
            raise ValueError(
                f"A job name is 1-100 lowercase letters, digits and dashes, not {self.name!r}."
            )
        if not isinstance(self.schedule, Every | Calendar):
            raise ValueError(
                f"Job {self.name!r}: the schedule must come from every() or calendar(), "
                f"not {self.schedule!r}."
            )
        if not callable(self.run):
            raise ValueError(f"Job {self.name!r}: run must be callable, not {self.run!r}.")
        if not isinstance(self.lease, timedelta) or self.lease < timedelta(seconds=10):
            raise ValueError(f"Job {self.name!r}: the lease must be at least 10 seconds.")


_registry: dict[str, Job] = {}


def register(
    name: str,
    *,
    schedule: Schedule,
    run: Callable[[], object],
    lease: timedelta = timedelta(minutes=15),
) -> Job:
    """Add a periodic job; apps call this when Django starts (their AppConfig.ready)."""
    job = Job(name=name, schedule=schedule, run=run, lease=lease)
    if name in _registry:
        raise ValueError(f"A periodic job named {name!r} is already registered.")
    _registry[name] = job
    return job


def registered_jobs() -> list[Job]:
    """Every registered job, in the order they were registered."""
    return list(_registry.values())


# --- running them ---------------------------------------------------------------------------


def _tidy_connections() -> None:
    """Drop broken or expired connections between jobs, as Django does between requests.

    Never inside a transaction (a caller's, or a test's), where closing would lose its work."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


def _runner_id() -> str:
    """Who holds a lease: host, process and a random part (two schedulers in one process)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{secrets.token_hex(4)}"


class Scheduler:
    """Runs the due jobs it knows, each once across every scheduler sharing the database.

    `clock` gives the current aware time (tests pass their own)."""

    def __init__(
        self,
        jobs: list[Job] | None = None,
        clock: Callable[[], datetime] = timezone.now,
        runner_id: str | None = None,
    ) -> None:
        self.jobs = registered_jobs() if jobs is None else list(jobs)
        self.clock = clock
        self.runner_id = runner_id or _runner_id()
        self._next_check: datetime | None = None

    def run_due(self) -> list[str]:
        """Run every due job this scheduler can claim; the names of those that succeeded.

        A failing job is logged and recorded on its row (`last_error`) and does not stop the
        others."""
        if not self.jobs:  # nothing to do: look again in a minute, without a query
            self._next_check = self.clock() + timedelta(minutes=1)
            return []
        _tidy_connections()
        rows = self._rows()
        ran = []
        for job in self.jobs:
            row = rows[job.name]
            now = self.clock()
            if row.next_run_at > now or (row.leased_until and row.leased_until > now):
                continue
            if self._claim(job, now) and self._run(job, started=now):
                ran.append(job.name)
        self._next_check = self._earliest_next_check()
        return ran

    def seconds_to_next(self) -> float:
        """Seconds until a job may next be due, as of the last `run_due`."""
        if self._next_check is None:
            return 0.0
        return max(0.0, (self._next_check - self.clock()).total_seconds())

    def _rows(self) -> dict[str, ScheduledJob]:
        """The row of each job: created for a new job, its due time reset if its schedule changed."""
        now = self.clock()
        rows = {r.name: r for r in ScheduledJob.objects.filter(name__in=self._names())}
        missing = [
            ScheduledJob(
                name=j.name, schedule=str(j.schedule), next_run_at=j.schedule.first_due(now)
            )
            for j in self.jobs
            if j.name not in rows
        ]
        if missing:
            # Another scheduler may insert the same rows at the same moment: theirs win.
            ScheduledJob.objects.bulk_create(missing, ignore_conflicts=True)
            rows = {r.name: r for r in ScheduledJob.objects.filter(name__in=self._names())}
        for job in self.jobs:
            row = rows[job.name]
            if row.schedule != str(job.schedule):
                since = row.last_started_at
                next_run_at = job.schedule.next_due(since) if since else job.schedule.first_due(now)
                ScheduledJob.objects.filter(pk=row.pk, schedule=row.schedule).update(
                    schedule=str(job.schedule), next_run_at=next_run_at
                )
                row.schedule, row.next_run_at = str(job.schedule), next_run_at
        return rows

    def _names(self) -> list[str]:
        return [job.name for job in self.jobs]

    def _claim(self, job: Job, now: datetime) -> bool:
        """Take the job's lease if it is due and nobody holds it: one conditional UPDATE, so of
        schedulers racing for it exactly one changes the row."""
        return bool(
            ScheduledJob.objects.filter(name=job.name, next_run_at__lte=now)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
            .update(leased_by=self.runner_id, leased_until=now + job.lease, last_started_at=now)
        )

    def _run(self, job: Job, *, started: datetime) -> bool:
        error = ""
        started_clock = monotonic_time.monotonic()
        try:
            job.run()
        except Exception as exc:
            logger.exception("Periodic job %s failed", job.name)
            error = f"{exc.__class__.__name__}: {exc}\n\n{traceback.format_exc()}"[:10_000]
        else:
            logger.info(
                "Periodic job %s ran in %.1f s",
                job.name,
                monotonic_time.monotonic() - started_clock,
            )
        finally:
            _tidy_connections()
        finished = self.clock()
        next_run_at = job.schedule.next_due(started)
        if next_run_at <= finished:  # it ran past its next start: no run straight after
            next_run_at = job.schedule.next_due(finished)
        # Only the lease holder writes: if the lease ran out and another runner took the job,
        # the row is theirs now.
        ScheduledJob.objects.filter(name=job.name, leased_by=self.runner_id).update(
            leased_by="",
            leased_until=None,
            last_finished_at=finished,
            last_error=error,
            next_run_at=next_run_at,
        )
        return not error

    def _earliest_next_check(self) -> datetime | None:
        times = []
        for row in ScheduledJob.objects.filter(name__in=self._names()):
            times.append(max(row.next_run_at, row.leased_until or row.next_run_at))
        return min(times, default=None)


class SchedulerThread(threading.Thread):
    """The scheduler loop in a daemon thread, stopped with `stop()`.

    Start it only in a process that will not fork afterwards (a gunicorn worker after it loaded
    the app, `tierline worker`): a thread importing while its process forks leaves the child
    holding a lock nobody will release."""

    def __init__(self, scheduler: Scheduler | None = None, tick_seconds: float = 30.0) -> None:
        super().__init__(name="tierline-scheduler", daemon=True)
        self.scheduler = scheduler or Scheduler()
        self.tick_seconds = tick_seconds
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                try:
                    self.scheduler.run_due()
                    wait = min(self.tick_seconds, self.scheduler.seconds_to_next())
                except Exception:  # the database is away: log it, try again next tick
                    logger.exception("The scheduler could not check its jobs")
                    _tidy_connections()
                    wait = self.tick_seconds
                self._stop_event.wait(max(wait, 1.0))
        finally:
            connections.close_all()  # this thread's own connections

    def stop(self) -> None:
        self._stop_event.set()

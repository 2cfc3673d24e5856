"""Periodic jobs: a registry of (name, interval, callable) and the loop that runs them.

`tierline worker` runs the loop in the foreground; `tierline serve` runs it in a thread of the
server's master process. Jobs must be safe to run twice: two schedulers (a server and a worker)
may both run one, and a restart runs every job once at start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: int
    run: Callable[[], object]


def _close_resolved_tickets() -> object:
    from tierline.desk.tasks import close_resolved_tickets

    # Enqueued, not called: with TIERLINE_TASKS=database the worker runs it; the immediate
    # backend runs it right here.
    return close_resolved_tickets.enqueue()


JOBS: list[Job] = [
    Job("close-resolved-tickets", 60 * 60, _close_resolved_tickets),
]


def register(job: Job) -> None:
    """Add a periodic job (apps call this from AppConfig.ready)."""
    if any(existing.name == job.name for existing in JOBS):
        raise ValueError(f"A periodic job named {job.name!r} is already registered.")
    JOBS.append(job)


def _tidy_connections() -> None:
    """Drop broken or expired connections between jobs, as Django does between requests.

    Never inside a transaction (a caller's, or a test's), where closing would lose its work."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


class Scheduler:
    """Remembers when each job last ran; `run_due` runs those whose interval has passed."""

    def __init__(self, jobs: list[Job] | None = None, clock: Callable[[], float] = time.monotonic):
        self.jobs = list(JOBS if jobs is None else jobs)
        self.clock = clock
        self.last_run: dict[str, float] = {}

    def due(self) -> list[Job]:
        now = self.clock()
        return [
            job
            for job in self.jobs
            if job.name not in self.last_run
            or now - self.last_run[job.name] >= job.interval_seconds
        ]

    def run_due(self) -> list[str]:
        """Run every due job once; a failing job is logged and does not stop the others."""
        ran = []
        for job in self.due():
            self.last_run[job.name] = self.clock()
            _tidy_connections()
            try:
                job.run()
            except Exception:
                logger.exception("Periodic job %s failed", job.name)
            else:
                ran.append(job.name)
            finally:
                _tidy_connections()
        return ran

    def seconds_to_next(self) -> float:
        now = self.clock()
        waits = [
            self.last_run.get(job.name, now - job.interval_seconds) + job.interval_seconds - now
            for job in self.jobs
        ]
        return max(0.0, min(waits, default=60.0))


class SchedulerThread(threading.Thread):
    """The scheduler loop in a daemon thread, stopped with `stop()`."""

    def __init__(self, scheduler: Scheduler | None = None, tick_seconds: float = 30.0):
        super().__init__(name="tierline-scheduler", daemon=True)
        self.scheduler = scheduler or Scheduler()
        self.tick_seconds = tick_seconds
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.scheduler.run_due()
            wait = min(self.tick_seconds, self.scheduler.seconds_to_next())
            self._stop_event.wait(max(wait, 1.0))

    def stop(self) -> None:
        self._stop_event.set()

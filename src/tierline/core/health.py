"""The health page: what an admin checks first when the desk seems slow or mail seems missing.

Each app registers its checks from its ready():

    health.register_check("mail.quarantine", "Quarantined mail", quarantine_check, order=40)

A check returns a `Finding`: its state (ok, warning, error), one plain sentence, an optional count
and a link to where it is fixed. Checks run in order on every view of the page; one that raises is
shown as an error with its exception's class, and the others still run. Core's own: the database,
the data directory's free space, the background tasks and the scheduled jobs.

`/health/live` answers anyone with `{"status": "ok"}` (200) or `"error"` (503) from the database
alone, for a load balancer; the full page and `/health/?format=json` are for admins.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from django.conf import settings
from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

logger = logging.getLogger(__name__)

State = Literal["ok", "warning", "error"]
STATES: tuple[State, ...] = ("ok", "warning", "error")
# Free space on the data directory's disk under this share is a warning; under a fifth of it, an error.
DISK_WARNING_SHARE = 0.10
# A ready task older than this means no worker is taking tasks.
TASK_BACKLOG_MINUTES = 10


@dataclass(frozen=True)
class Finding:
    state: State
    summary: str
    count: int | None = None
    url: str = ""


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    run: Callable[[], Finding]
    order: int


@dataclass(frozen=True)
class Result:
    key: str
    label: str
    finding: Finding
    milliseconds: float


_checks: dict[str, Check] = {}


def register_check(key: str, label: str, run: Callable[[], Finding], *, order: int = 100) -> None:
    """Add (or replace, by key: ready() may run twice) a check on the health page."""
    if not key or not callable(run):
        raise ValueError("A health check needs a key and a callable.")
    _checks[key] = Check(key=key, label=label, run=run, order=order)


def checks() -> list[Check]:
    return sorted(_checks.values(), key=lambda c: (c.order, c.key))


def run_checks() -> list[Result]:
    """Every check, in order; a check that raises is an error with its exception's class."""
    results = []
    for check in checks():
        started = time.perf_counter()
        try:
            finding = check.run()
            if finding.state not in STATES:
                raise ValueError(f"unknown state {finding.state!r}")
        except Exception as exc:
            logger.exception("health check %s failed", check.key)
            finding = Finding("error", f"The check itself failed ({type(exc).__name__}).")
        elapsed = (time.perf_counter() - started) * 1000
        results.append(Result(check.key, check.label, finding, round(elapsed, 1)))
    return results


def overall(results: list[Result]) -> State:
    """The worst state among the results ("ok" when there are none)."""
    worst = max((STATES.index(r.finding.state) for r in results), default=0)
    return STATES[worst]


def admin_url(name: str, query: str = "") -> str:
    """The admin page `admin:<name>`, or "" where that page is not registered."""
    try:
        return reverse(f"admin:{name}") + (f"?{query}" if query else "")
    except NoReverseMatch:
        return ""


def counted(n: int, one: str, many: str) -> str:
    """A finding's count in words: `counted(1, "page has", "pages have")` -> "1 page has"."""
    return f"{n} {one if n == 1 else many}"


# --- core's own checks ---------------------------------------------------------------------


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health: the database does not answer")
        return False


def _database() -> Finding:
    started = time.perf_counter()
    if not database_answers():
        return Finding("error", "The database does not answer.")
    ms = (time.perf_counter() - started) * 1000
    return Finding("ok", f"{connection.vendor} answers ({ms:.0f} ms).")


def _disk() -> Finding:
    where = settings.DATA_DIR
    usage = shutil.disk_usage(where)
    share = usage.free / usage.total if usage.total else 0.0
    text = f"{usage.free / 2**30:.1f} GiB free of {usage.total / 2**30:.1f} GiB ({share:.0%})."
    if share < DISK_WARNING_SHARE / 5:
        return Finding("error", "The data directory's disk is nearly full: " + text)
    if share < DISK_WARNING_SHARE:
        return Finding("warning", "The data directory's disk is filling up: " + text)
    return Finding("ok", text)


def _tasks() -> Finding:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    backend = settings.TASKS["default"]["BACKEND"]
    if backend == "tierline.core.redis_tasks.RedisBackend":
        return _redis_tasks()
    if not backend.startswith("django_tasks_db"):
        return Finding("ok", "Tasks run in the request that queues them (no worker needed).")
    waiting = DBTaskResult.objects.ready()
    stale = waiting.filter(enqueued_at__lt=timezone.now() - timedelta(minutes=TASK_BACKLOG_MINUTES))
    failed = DBTaskResult.objects.filter(
        status=TaskResultStatus.FAILED, finished_at__gte=timezone.now() - timedelta(days=1)
    ).count()
    url = admin_url("django_tasks_database_dbtaskresult_changelist")
    if stale.exists():
        return Finding(
            "error",
            f"Tasks have waited over {TASK_BACKLOG_MINUTES} minutes: is `tierline worker` running?",
            count=waiting.count(),
            url=url,
        )
    if failed:
        return Finding("warning", f"{failed} tasks failed in the last day.", count=failed, url=url)
    return Finding("ok", f"{waiting.count()} tasks waiting; none failed in the last day.", count=0)


def _redis_tasks() -> Finding:
    """The Redis queue: waiting too long means no worker takes tasks."""
    import redis
    from django_tasks import task_backends

    backend = task_backends["default"]
    try:
        state = backend.state()
    except redis.RedisError as exc:
        return Finding(
            "error", f"Redis does not answer ({type(exc).__name__}): tasks cannot queue."
        )
    workers = f"{state.workers_alive} worker{'s' if state.workers_alive != 1 else ''} connected"
    oldest = state.oldest_waiting_since
    if oldest and oldest < timezone.now() - timedelta(minutes=TASK_BACKLOG_MINUTES):
        return Finding(
            "error",
            f"Tasks have waited over {TASK_BACKLOG_MINUTES} minutes ({workers}): "
            "is `tierline worker` running?",
            count=state.waiting,
        )
    if not state.workers_alive:
        return Finding(
            "warning",
            f"No `tierline worker` is connected to Redis; {state.waiting} tasks waiting.",
            count=state.waiting,
        )
    if state.failed_last_day:
        return Finding(
            "warning",
            f"{state.failed_last_day} tasks failed in the last day (last: {state.last_failure}).",
            count=state.failed_last_day,
        )
    return Finding(
        "ok",
        f"Redis: {state.waiting} tasks waiting, {state.running} running, {workers}; "
        "none failed in the last day.",
        count=0,
    )


def _jobs() -> Finding:
    from tierline.core.models import ScheduledJob

    now = timezone.now()
    url = admin_url("core_scheduledjob_changelist")
    failing = list(ScheduledJob.objects.exclude(last_error="").values_list("name", flat=True))
    if failing:
        return Finding(
            "warning", "Last run failed: " + ", ".join(failing) + ".", count=len(failing), url=url
        )
    late = list(
        ScheduledJob.objects.filter(next_run_at__lt=now - timedelta(minutes=TASK_BACKLOG_MINUTES))
        .exclude(leased_until__gt=now)
        .values_list("name", flat=True)
    )
    if late:
        return Finding(
            "warning",
            "Overdue (is a scheduler running?): " + ", ".join(late) + ".",
            count=len(late),
            url=url,
        )
    return Finding("ok", "Every scheduled job ran on time.", count=0)


def register_core_checks() -> None:
    register_check("core.database", "Database", _database, order=0)
    register_check("core.disk", "Data directory's disk", _disk, order=1)
    register_check("core.tasks", "Background tasks", _tasks, order=2)
    register_check("core.jobs", "Scheduled jobs", _jobs, order=3)

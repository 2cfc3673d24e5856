"""Tasks for the worker tests. Each writes a line per start and per end to a log file (one
`write` on a file opened for appending: lines of processes never mix), so a test counts how
often a task ran, in which process, and whether two runs overlapped."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django_tasks import task

FLAG_WAIT_SECONDS = 120


def _append(log: str, line: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


@task()
def record_run(*, log: str, name: str, seconds: float = 0.0) -> int:
    """start/done lines around an optional nap; returns the process id."""
    _append(log, f"start {name} {os.getpid()} {time.time():.6f}")
    time.sleep(seconds)
    _append(log, f"done {name} {os.getpid()} {time.time():.6f}")
    return os.getpid()


@task()
def wait_for_flag(*, log: str, name: str, flag: str) -> str:
    """Blocks until the file `flag` exists (a test kills the worker meanwhile)."""
    _append(log, f"start {name} {os.getpid()} {time.time():.6f}")
    deadline = time.monotonic() + FLAG_WAIT_SECONDS
    while not Path(flag).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{flag} never appeared")
        time.sleep(0.05)
    _append(log, f"done {name} {os.getpid()} {time.time():.6f}")
    return "done"


@task()
def fail(*, message: str) -> None:
    raise ValueError(message)


def runs(log: str | Path) -> list[tuple[str, str, int, float]]:
    """(event, name, pid, time) for each line of the log."""
    path = Path(log)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        event, name, pid, moment = line.split()
        rows.append((event, name, int(pid), float(moment)))
    return rows

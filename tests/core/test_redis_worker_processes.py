"""Real `tierline worker` processes sharing tasks through the real Redis; one killed mid-task.

Each worker is a child process on a SQLite data dir of its own test (copied from one `tierline
init`), its tasks in Redis under the test's key prefix. The tasks (tests/core/worker_tasks.py)
write a line when they start and when they end, so the test counts runs per process.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.core import worker_tasks
from tests.core.redis_support import backend_options, jobs_of
from tierline.core.redis_tasks import RedisBackend

# The children run on SQLite files of their own whatever the run's database: the PostgreSQL run
# would repeat the SQLite run's minutes for nothing.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TIERLINE_DATABASE_URL")),
    reason="the worker processes use SQLite data dirs of their own: covered by the SQLite run",
)

TIERLINE = Path(sys.executable).with_name("tierline")
ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3  # the killed worker's task goes to the other within about this


def _env(data_dir: Path, redis_url: str = "", prefix: str = "") -> dict[str, str]:
    env = dict(os.environ, TIERLINE_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT))
    for name in ("TIERLINE_DATABASE_URL", "TIERLINE_TASKS", "TIERLINE_REDIS_URL"):
        env.pop(name, None)
    if redis_url:
        env.update(TIERLINE_REDIS_URL=redis_url, TIERLINE_REDIS_PREFIX=prefix)
    return env


@pytest.fixture(scope="module")
def initialised_data_dir(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("worker-template")
    subprocess.run(
        [str(TIERLINE), "init", "--noinput", "--quiet"],
        env=_env(data_dir),
        check=True,
        capture_output=True,
        timeout=600,
    )
    return data_dir


class Workers:
    """Starts `tierline worker` children on one data dir and one Redis prefix; ends them all."""

    def __init__(self, data_dir: Path, redis_url: str, prefix: str, logs: Path) -> None:
        self.env = _env(data_dir, redis_url, prefix)
        self.logs = logs
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str) -> subprocess.Popen:
        log = self.logs / f"{name}.log"
        with open(log, "w") as out:
            process = subprocess.Popen(
                [str(TIERLINE), "worker", "--lease", str(LEASE_SECONDS), "--interval", "1"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        self.started.append((process, log))
        deadline = time.monotonic() + 120
        while "Ctrl-C stops" not in log.read_text():
            assert process.poll() is None, f"worker {name} stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"worker {name} never started:\n{log.read_text()}"
            time.sleep(0.1)
        return process

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()}" for _, log in self.started)

    def stop_all(self) -> list[int | None]:
        codes = []
        for process, _ in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in self.started:
            try:
                codes.append(process.wait(timeout=30))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        return codes


@pytest.fixture
def workers(initialised_data_dir, redis_url, redis_prefix, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(initialised_data_dir, data_dir)
    group = Workers(data_dir, redis_url, redis_prefix, tmp_path)
    yield group
    group.stop_all()


@pytest.fixture
def backend(redis_url, redis_prefix) -> RedisBackend:
    return RedisBackend("default", {"OPTIONS": backend_options(redis_url, redis_prefix)})


def _wait(condition, seconds: float, why: str, workers: Workers) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out: {why}\n{workers.output()}"
        time.sleep(0.05)


def test_two_worker_processes_share_the_tasks_and_run_each_once(workers, backend, tmp_path):
    # given two workers, and 30 tasks of 0.1 s queued
    one, two = workers.start("one"), workers.start("two")
    log = str(tmp_path / "runs.log")
    names = [f"t{n}" for n in range(30)]
    queued = [
        backend.enqueue(worker_tasks.record_run, (), {"log": log, "name": name, "seconds": 0.1})
        for name in names
    ]
    # when they have all finished
    _wait(
        lambda: all(backend.get_result(q.id).is_finished for q in queued),
        120,
        "the tasks never finished",
        workers,
    )
    # then each ran exactly once (one start, one end), both processes took some
    runs = worker_tasks.runs(log)
    assert sorted(n for e, n, _, _ in runs if e == "start") == sorted(names)
    assert sorted(n for e, n, _, _ in runs if e == "done") == sorted(names)
    assert {pid for _, _, pid, _ in runs} == {one.pid, two.pid}
    assert {backend.get_result(q.id).status for q in queued} == {"SUCCESSFUL"}
    assert all(len(backend.get_result(q.id).worker_ids) == 1 for q in queued)
    # and the periodic job that enqueues the SLA sweep, due at once on a new desk, was
    # enqueued once per minute between the two workers' schedulers, and ran
    _wait(
        lambda: any(j["status"] == "SUCCESSFUL" for j in jobs_of(backend, SWEEP)),
        60,
        "the SLA sweep never ran",
        workers,
    )
    # (once per interval: a slow machine may reach the next minute before this line)
    enqueued = sorted(datetime.fromisoformat(j["enqueued_at"]) for j in jobs_of(backend, SWEEP))
    assert all(b - a >= timedelta(seconds=59) for a, b in itertools.pairwise(enqueued)), enqueued
    # and they stop cleanly, giving their leases back
    assert workers.stop_all() == [0, 0], workers.output()
    assert "Traceback" not in workers.output()
    assert backend.state().workers_alive == 0


SWEEP = "tierline.sla.tasks.sweep_targets"


def test_a_worker_killed_mid_task_loses_it_to_the_other_which_completes_it_once(
    workers, backend, tmp_path
):
    # given a worker running a task that waits for a flag
    log, flag = str(tmp_path / "runs.log"), tmp_path / "go"
    victim = workers.start("victim")
    queued = backend.enqueue(
        worker_tasks.wait_for_flag, (), {"log": log, "name": "job", "flag": str(flag)}
    )
    _wait(lambda: worker_tasks.runs(log), 60, "the task never started", workers)
    assert worker_tasks.runs(log)[0][2] == victim.pid
    survivor = workers.start("survivor")
    # when that worker is killed outright, and the flag is then raised
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    killed_at = time.time()
    flag.touch()
    # then the other worker takes the task once the lease ran out, and completes it
    _wait(lambda: backend.get_result(queued.id).is_finished, 60, "never completed", workers)
    runs = worker_tasks.runs(log)
    assert [(e, pid) for e, _, pid, _ in runs] == [
        ("start", victim.pid),
        ("start", survivor.pid),
        ("done", survivor.pid),
    ]
    # never at once: the second run began after the first runner was dead
    assert runs[1][3] >= killed_at
    result = backend.get_result(queued.id)
    assert result.status == "SUCCESSFUL"
    assert result.return_value == "done"
    assert [w.split(":")[1] for w in result.worker_ids] == [str(victim.pid), str(survivor.pid)]
    # and it stays completed once: nothing is left to take
    time.sleep(LEASE_SECONDS)
    assert [e for e, *_ in worker_tasks.runs(log)].count("done") == 1
    state = backend.state()
    assert (state.waiting, state.running) == (0, 0)


def test_worker_once_runs_the_due_jobs_and_every_queued_task_then_exits(
    initialised_data_dir, redis_url, redis_prefix, backend, tmp_path
):
    # given three queued tasks
    data_dir = tmp_path / "data"
    shutil.copytree(initialised_data_dir, data_dir)
    log = str(tmp_path / "runs.log")
    for name in ("a", "b", "c"):
        backend.enqueue(worker_tasks.record_run, (), {"log": log, "name": name})
    # when `tierline worker --once` runs
    done = subprocess.run(
        [str(TIERLINE), "worker", "--once"],
        env=_env(data_dir, redis_url, redis_prefix),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # then it ran them (and the tasks its due jobs queued), said so, and left no worker behind
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(n for e, n, _, _ in worker_tasks.runs(log) if e == "done") == ["a", "b", "c"]
    assert "sla-sweep" in done.stdout
    assert jobs_of(backend, SWEEP)[0]["status"] == "SUCCESSFUL"
    state = backend.state()
    assert (state.waiting, state.running, state.workers_alive) == (0, 0, 0)


def test_worker_with_redis_away_says_so_plainly(initialised_data_dir, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(initialised_data_dir, data_dir)
    done = subprocess.run(
        [str(TIERLINE), "worker", "--once"],
        env=_env(data_dir, "redis://127.0.0.1:1/0", "away"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    assert "tierline worker: Redis at redis://127.0.0.1:1/0 does not answer" in done.stderr
    assert "Traceback" not in done.stderr

"""The Redis task backend and its worker, in this process, against the real Redis.

(The same with real `tierline worker` processes, killed ones too: test_redis_worker_processes.py.)
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus

from tests.core import worker_tasks
from tierline.core import batch, health
from tierline.core.redis_tasks import RedisBackend, RedisWorker

FAST = {"lease": 0.8, "heartbeat": 0.2}


@pytest.fixture(autouse=True)
def _no_database(request, monkeypatch):
    """These tasks touch no database: the worker's tidying of connections around a task (which
    pytest-django forbids outside a database test) is left to the process tests."""
    if request.node.get_closest_marker("django_db") is None:
        monkeypatch.setattr("tierline.core.redis_tasks._tidy_connections", lambda: None)


def _never(*_args: object) -> None:
    raise AssertionError("this worker's lease was not meant to be lost")


@pytest.fixture
def workers(redis_backend):
    started: list[RedisWorker] = []

    def make(worker_id: str, **kwargs) -> RedisWorker:
        options = {**FAST, "on_lease_lost": _never, **kwargs}
        worker = RedisWorker(redis_backend, worker_id=worker_id, **options)
        worker.start()
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.stop()


def _wait(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_queued_task_runs_once_and_its_result_is_kept(redis_backend, workers, tmp_path):
    # given a task queued outside any transaction
    log = str(tmp_path / "runs.log")
    queued = redis_backend.enqueue(worker_tasks.record_run, (), {"log": log, "name": "one"})
    assert redis_backend.get_result(queued.id).status == TaskResultStatus.READY
    worker = workers("w1")
    # when the worker takes tasks until none are left
    ran = worker.drain()
    # then it ran once, and its result reads back
    assert ran == 1
    assert [(e, n) for e, n, _, _ in worker_tasks.runs(log)] == [("start", "one"), ("done", "one")]
    result = redis_backend.get_result(queued.id)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == worker_tasks.runs(log)[0][2]
    assert result.worker_ids == ["w1"]
    assert result.started_at <= result.finished_at
    assert redis_backend.finished_ids() == [queued.id]


def test_a_failing_task_is_recorded_with_its_error_and_shown_on_the_health_page(
    redis_default_backend, settings
):
    # given a task that raises, run by a worker
    queued = worker_tasks.fail.enqueue(message="the printer is on fire")
    worker = RedisWorker(redis_default_backend, worker_id="w1", **FAST, on_lease_lost=_never)
    worker.start()
    try:
        worker.drain()
        # when the result and the health check are read
        result = worker_tasks.fail.get_result(queued.id)
        finding = health._tasks()
    finally:
        worker.stop()
    # then the failure is there, with the exception and its traceback
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class_path == "builtins.ValueError"
    assert "the printer is on fire" in result.errors[0].traceback
    assert finding.state == "warning"
    assert "1 tasks failed in the last day" in finding.summary
    assert "tests.core.worker_tasks.fail: builtins.ValueError" in finding.summary


@pytest.mark.django_db
def test_a_task_queued_in_a_transaction_is_pushed_when_it_commits(
    redis_backend, django_capture_on_commit_callbacks, tmp_path
):
    queue = redis_backend.keys.queue("default")
    args = {"log": str(tmp_path / "runs.log"), "name": "after-commit"}
    # when a task is queued inside a transaction
    with django_capture_on_commit_callbacks(execute=True):
        redis_backend.enqueue(worker_tasks.record_run, (), args)
        # then no worker can see it before the commit
        assert redis_backend.redis.llen(queue) == 0
    # and it is there after
    assert redis_backend.redis.llen(queue) == 1


@pytest.mark.django_db
def test_a_task_queued_in_a_rolled_back_transaction_is_never_queued(
    redis_backend, django_capture_on_commit_callbacks, tmp_path
):
    args = {"log": str(tmp_path / "runs.log"), "name": "rolled-back"}
    # when the transaction that queued it rolls back
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        redis_backend.enqueue(worker_tasks.record_run, (), args)
        raise RuntimeError("roll back")
    # then nothing was queued
    assert callbacks == []
    assert redis_backend.redis.llen(redis_backend.keys.queue("default")) == 0


def test_two_workers_never_take_the_same_task(redis_backend, workers, tmp_path):
    # given 40 tasks and two workers taking them at the same time, each in its own thread
    log = str(tmp_path / "runs.log")
    for n in range(40):
        redis_backend.enqueue(worker_tasks.record_run, (), {"log": log, "name": f"t{n}"})
    one, two = workers("w1"), workers("w2")
    taken: dict[str, list[str]] = {"w1": [], "w2": []}

    def take_all(worker: RedisWorker) -> None:
        while (result := worker.run_one(timeout=0)) is not None:
            taken[worker.worker_id].append(result.id)

    threads = [threading.Thread(target=take_all, args=(w,)) for w in (one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then each task ran exactly once, by one of them
    names = [n for e, n, _, _ in worker_tasks.runs(log) if e == "done"]
    assert sorted(names) == sorted(f"t{n}" for n in range(40))
    assert not set(taken["w1"]) & set(taken["w2"])
    assert len(taken["w1"]) + len(taken["w2"]) == 40


def test_a_dead_workers_task_goes_back_to_the_queue_and_runs_once_elsewhere(
    redis_backend, workers, tmp_path
):
    # given a worker that took a task and then died (its heartbeat stopped, nothing finished)
    log = str(tmp_path / "runs.log")
    queued = redis_backend.enqueue(worker_tasks.record_run, (), {"log": log, "name": "orphan"})
    dead = RedisWorker(redis_backend, worker_id="dead", **FAST, on_lease_lost=_never)
    dead.start()
    assert dead._take(timeout=0) == queued.id
    dead._stop.set()  # the heartbeat stops as it would with the process
    other = workers("w2")
    # when its lease runs out, the other worker takes the task
    _wait(lambda: not redis_backend.redis.exists(redis_backend.keys.lease("dead")))
    result = other.run_one(timeout=1)
    # then the task ran once, on the other worker, and the dead one is forgotten
    assert result is not None and result.id == queued.id
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert [e for e, *_ in worker_tasks.runs(log)] == ["start", "done"]
    assert redis_backend.redis.llen(redis_backend.keys.processing("dead")) == 0
    assert "dead" not in redis_backend.redis.smembers(redis_backend.keys.workers)


def test_a_live_workers_task_is_never_taken_from_it(redis_backend, workers, tmp_path):
    # given a worker holding a task for several lease periods (its heartbeat keeps the lease)
    log = str(tmp_path / "runs.log")
    queued = redis_backend.enqueue(worker_tasks.record_run, (), {"log": log, "name": "held"})
    holder, other = workers("holder"), workers("other")
    assert holder._take(timeout=0) == queued.id
    deadline = time.monotonic() + 3 * FAST["lease"]
    # when the other worker keeps looking (and reaping) meanwhile
    while time.monotonic() < deadline:
        assert other.run_one(timeout=0) is None
        time.sleep(0.05)
    # then the task is still the holder's alone
    assert redis_backend.redis.lrange(redis_backend.keys.processing("holder"), 0, -1) == [queued.id]
    assert worker_tasks.runs(log) == []


def test_a_worker_whose_lease_was_taken_stops_at_once(redis_backend, tmp_path):
    # given a worker running a task
    lost = threading.Event()
    worker = RedisWorker(redis_backend, worker_id="w1", **FAST, on_lease_lost=lost.set)
    worker.start()
    worker._running = "some-task"
    try:
        # when its lease disappears (it expired while the process was starved)
        redis_backend.redis.delete(redis_backend.keys.lease("w1"))
        # then its heartbeat stops it
        assert lost.wait(timeout=2)
    finally:
        worker._running = None
        worker.stop()


def test_a_worker_that_cannot_reach_redis_stops_before_its_lease_expires(
    redis_backend, monkeypatch
):
    # given a worker running a task, whose renewals now fail (Redis away)
    lost = threading.Event()
    worker = RedisWorker(
        redis_backend, worker_id="w1", lease=1.2, heartbeat=0.2, on_lease_lost=lost.set
    )
    worker.start()
    worker._running = "some-task"

    def unreachable() -> bool:
        raise ConnectionError("Redis away")

    try:
        time.sleep(0.3)
        monkeypatch.setattr(worker, "_renew", unreachable)
        last_renewal = worker._renewed_at
        # then it gives up while its lease still runs
        assert lost.wait(timeout=3)
        assert time.monotonic() < last_renewal + worker.lease
        assert redis_backend.redis.exists(redis_backend.keys.lease("w1"))
    finally:
        worker._running = None
        monkeypatch.undo()
        worker.stop()


def test_an_unknown_task_fails_with_its_import_error(redis_backend, workers):
    # given a job whose task no longer exists (an older release queued it)
    queued = redis_backend.enqueue(worker_tasks.fail, (), {"message": "x"})
    redis_backend.redis.hset(redis_backend.keys.job(queued.id), "task", "tests.core.gone.task")
    # when a worker takes it
    assert workers("w1").run_one(timeout=0) is None
    # then it is recorded as failed, and the worker goes on
    data = redis_backend.redis.hgetall(redis_backend.keys.job(queued.id))
    assert data["status"] == "FAILED"
    assert "ModuleNotFoundError" in data["errors"] or "ImportError" in data["errors"]
    assert redis_backend.redis.zscore(redis_backend.keys.failed, queued.id) is not None


def test_an_unknown_result_id_is_refused(redis_backend):
    from django_tasks.exceptions import TaskResultDoesNotExist

    with pytest.raises(TaskResultDoesNotExist):
        redis_backend.get_result("no-such-id")


# --- the health page ------------------------------------------------------------------------


def test_health_with_no_worker_connected_warns(redis_default_backend):
    worker_tasks.fail.enqueue(message="waits")
    finding = health._tasks()
    assert finding.state == "warning"
    assert "No `tierline worker` is connected to Redis; 1 tasks waiting" in finding.summary


def test_health_with_a_task_waiting_too_long_is_an_error(redis_default_backend):
    # given a task queued 11 minutes ago that nobody took
    queued = worker_tasks.fail.enqueue(message="waits")
    old = timezone.now() - timedelta(minutes=health.TASK_BACKLOG_MINUTES + 1)
    redis_default_backend.redis.hset(
        redis_default_backend.keys.job(queued.id), "enqueued_at", old.isoformat()
    )
    # then
    finding = health._tasks()
    assert finding.state == "error"
    assert "is `tierline worker` running?" in finding.summary
    assert finding.count == 1


def test_health_with_a_worker_and_nothing_failed_is_ok(redis_default_backend):
    worker = RedisWorker(redis_default_backend, worker_id="w1", **FAST, on_lease_lost=_never)
    worker.start()
    try:
        finding = health._tasks()
    finally:
        worker.stop()
    assert finding.state == "ok"
    assert "0 tasks waiting, 0 running, 1 worker connected" in finding.summary


def test_health_with_redis_unreachable_is_an_error(settings, redis_url):
    settings.TASKS = {
        "default": {
            "BACKEND": "tierline.core.redis_tasks.RedisBackend",
            "OPTIONS": {"URL": "redis://127.0.0.1:1/0", "PREFIX": "unreachable"},
        }
    }
    finding = health._tasks()
    assert finding.state == "error"
    assert "Redis does not answer" in finding.summary


# --- choosing the backend -------------------------------------------------------------------


def _settings_with(env: dict[str, str]) -> subprocess.CompletedProcess:
    import os

    clean = {
        k: v for k, v in os.environ.items() if k not in ("TIERLINE_TASKS", "TIERLINE_REDIS_URL")
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.TASKS['default']['BACKEND'])",
        ],
        env={**clean, "DJANGO_SETTINGS_MODULE": "tierline.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "backend"),
    [
        ({}, "django_tasks.backends.immediate.ImmediateBackend"),
        (
            {"TIERLINE_REDIS_URL": "redis://127.0.0.1:6379/0"},
            "tierline.core.redis_tasks.RedisBackend",
        ),
        (
            {"TIERLINE_REDIS_URL": "redis://127.0.0.1:6379/0", "TIERLINE_TASKS": "database"},
            "django_tasks_db.DatabaseBackend",
        ),
        ({"TIERLINE_TASKS": "database"}, "django_tasks_db.DatabaseBackend"),
    ],
)
def test_redis_is_chosen_when_its_url_is_set_unless_tasks_say_otherwise(env, backend):
    done = _settings_with(env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == backend


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TIERLINE_TASKS": "redis"}, "TIERLINE_TASKS=redis needs TIERLINE_REDIS_URL"),
        (
            {"TIERLINE_TASKS": "celery"},
            "TIERLINE_TASKS is 'celery': use one of immediate, database, redis",
        ),
    ],
)
def test_a_bad_tasks_setting_is_refused_with_a_clear_message(env, message):
    done = _settings_with(env)
    assert done.returncode != 0
    assert message in done.stderr


def test_the_backend_without_a_url_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="needs TIERLINE_REDIS_URL"):
        RedisBackend("default", {"OPTIONS": {}})


@pytest.mark.parametrize("lease", ["0", "0.5", "abc", "5000"])
def test_a_bad_worker_lease_is_refused_with_usage(lease, capsys):
    from tierline import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["worker", "--lease", lease])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--lease" in err
    assert "Traceback" not in err


@pytest.mark.django_db
def test_a_batchs_tasks_are_pushed_together_when_the_batch_ends(
    redis_backend, django_capture_on_commit_callbacks, tmp_path, monkeypatch
):
    # given a batch of work (core.batch) whose transaction queues three tasks
    queue = redis_backend.keys.queue("default")
    pipelines = []
    pipeline = redis_backend.redis.pipeline
    monkeypatch.setattr(
        redis_backend.redis, "pipeline", lambda **kw: pipelines.append(1) or pipeline(**kw)
    )
    log = str(tmp_path / "runs.log")
    with batch.scope():
        with django_capture_on_commit_callbacks(execute=True):
            queued = [
                redis_backend.enqueue(worker_tasks.record_run, (), {"log": log, "name": str(n)})
                for n in range(3)
            ]
        # when it has committed, then they wait for the batch's end
        assert redis_backend.redis.llen(queue) == 0
    # and are there after it, pushed in one round trip, in the order queued
    assert pipelines == [1]
    assert redis_backend.redis.lrange(queue, 0, -1) == [q.id for q in reversed(queued)]
    assert all(redis_backend.get_result(q.id).status == TaskResultStatus.READY for q in queued)


@pytest.mark.django_db
def test_a_batch_that_rolls_back_pushes_none_of_its_tasks(
    redis_backend, django_capture_on_commit_callbacks, tmp_path
):
    log = str(tmp_path / "runs.log")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        batch.scope(),
        transaction.atomic(),
    ):
        redis_backend.enqueue(worker_tasks.record_run, (), {"log": log, "name": "gone"})
        raise RuntimeError("roll back")
    assert callbacks == []
    assert redis_backend.redis.llen(redis_backend.keys.queue("default")) == 0

"""Background tasks through Redis: a Tasks API backend and the worker loop of `tierline worker`.

Chosen when `TIERLINE_REDIS_URL` is set (settings.py). Any number of `tierline worker` processes,
on any number of machines, take the tasks; each task runs once at a time, and the task of a worker
that died (killed, machine gone) is put back for another worker.

A reliable queue in the usual Redis way. Every key carries the prefix in braces (`{tierline}:...`),
so a Redis Cluster keeps them in one slot and the scripts below may touch several:

    {P}:job:<id>            hash: the task's path, arguments, status, times, workers, result, errors
    {P}:queue:<name>        list of ready ids: enqueue pushes on the left, workers take from the right
    {P}:processing:<worker> list: the id a worker is running (moved there atomically with BLMOVE)
    {P}:lease:<worker>      the worker's lease: a key with a time to live, renewed by a heartbeat
    {P}:workers             set of the workers that may hold jobs
    {P}:finished, :failed   sorted sets id -> finish time (the health page; old entries trimmed)

A worker moves an id from a queue to its own processing list in one command, so no two workers
ever take the same id. While it runs the task a heartbeat thread renews its lease every
`heartbeat` seconds (the lease lasts `lease` seconds). Every worker, every few seconds, reaps: for
each registered worker whose lease key has expired, one script moves the ids of its processing
list back to the right end of their queues (next to be taken) and forgets the worker. So a killed
worker's task runs again, on another worker, within about `lease` seconds.

Never twice at once: a worker that cannot renew its lease (Redis away, the process starved) stops
itself before the lease can expire, measured on its own clock from the moment it last asked for the
renewal, so no reaper can hand its task to another worker while it still runs it (`on_lease_lost`;
`tierline worker` exits with status 75). Only a process frozen whole for longer than its lease
(SIGSTOP, a suspended VM) could wake to find its task also taken; tasks stay safe to run twice in
sequence, as the scheduler's jobs do. A finished task's result is written only by the worker that
still holds it (its processing list), in one script with the removal.

Enqueueing inside a transaction pushes the task when the transaction commits (a worker must see
the rows the task reads; a rolled-back transaction queues nothing). Results are kept for
`RESULT_DAYS` days. Priorities and `run_after` are not supported (no task of ours uses them).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskContext, TaskError, TaskResult, TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist
from django_tasks.signals import task_enqueued, task_finished, task_started
from django_tasks.utils import (
    get_exception_traceback,
    get_module_path,
    get_random_id,
    normalize_json,
)

from tierline.core import batch

logger = logging.getLogger(__name__)

RESULT_DAYS = 7
DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_HEARTBEAT_SECONDS = 5.0
EXIT_LEASE_LOST = 75  # EX_TEMPFAIL: a supervisor restarts the worker

# Every worker with an expired lease: its jobs go back to the right end of their queues (taken
# next), marked ready; the worker is forgotten. One script, so a worker renewing its lease at the
# same moment either still holds its jobs or finds them gone (its renewal with XX fails).
REAP = """
local prefix = ARGV[1]
local moved = 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', prefix .. ':lease:' .. worker) == 0 then
    local processing = prefix .. ':processing:' .. worker
    while true do
      local id = redis.call('RPOP', processing)
      if not id then break end
      local job = prefix .. ':job:' .. id
      local queue = redis.call('HGET', job, 'queue')
      if queue then
        redis.call('HSET', job, 'status', 'READY')
        redis.call('RPUSH', prefix .. ':queue:' .. queue, id)
        moved = moved + 1
      end
    end
    redis.call('SREM', KEYS[1], worker)
  end
end
return moved
"""

# Write a finished job's outcome only if this worker still holds it.
FINISH = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
if ARGV[4] == '1' then redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1]) end
return 1
"""


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class Keys:
    """The names of the keys under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.root = "{" + prefix + "}"
        self.workers = f"{self.root}:workers"
        self.finished = f"{self.root}:finished"
        self.failed = f"{self.root}:failed"

    def job(self, job_id: str) -> str:
        return f"{self.root}:job:{job_id}"

    def queue(self, name: str) -> str:
        return f"{self.root}:queue:{name}"

    def processing(self, worker_id: str) -> str:
        return f"{self.root}:processing:{worker_id}"

    def lease(self, worker_id: str) -> str:
        return f"{self.root}:lease:{worker_id}"


@dataclass(frozen=True)
class QueueState:
    """What the health page shows: waiting, running, workers alive, recent failures."""

    waiting: int
    oldest_waiting_since: datetime | None
    running: int
    workers_alive: int
    failed_last_day: int
    last_failure: str


class RedisBackend(BaseTaskBackend):
    """The Tasks API on Redis. OPTIONS: URL (redis://...), PREFIX (default "tierline")."""

    supports_defer = False
    supports_async_task = False
    supports_get_result = True
    supports_priority = False

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        url = self.options.get("URL") or ""
        if not url:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                "The Redis task backend needs TIERLINE_REDIS_URL (e.g. redis://127.0.0.1:6379/0)."
            )
        self.url = url
        self.prefix = self.options.get("PREFIX") or "tierline"
        self.keys = Keys(self.prefix)
        self._client: Any = None

    @property
    def redis(self) -> Any:
        if self._client is None:
            self._client = self.client(timeout=10)
        return self._client

    def client(self, *, timeout: float) -> Any:
        """A new Redis client (its own connections) answering within `timeout` seconds."""
        import redis

        return redis.Redis.from_url(
            self.url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=min(timeout, 5),
        )

    # --- the Tasks API ----------------------------------------------------------------------

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        fields = {
            "task": task.module_path,
            "queue": task.queue_name,
            "args": json.dumps(result.args),
            "kwargs": json.dumps(result.kwargs),
            "status": TaskResultStatus.READY.value,
            "enqueued_at": _iso(result.enqueued_at),
            "worker_ids": "[]",
            "errors": "[]",
        }

        def push() -> None:
            # In a batch of work (`core.batch`, a spool drain), the batch's tasks go together
            # when it ends: one round trip to Redis, not one per task.
            if not batch.defer(f"core:redis-tasks:{self.alias}", (result, fields), self._push):
                self._push([(result, fields)])

        if transaction.get_connection().in_atomic_block:
            # After the commit, or never: a worker must find the rows the task reads. A failure
            # then cannot undo the commit: it is logged (and the health page shows no such task).
            transaction.on_commit(push, robust=True)
        else:
            push()
        return result

    def _push(self, jobs: list[tuple[TaskResult, dict[str, str]]]) -> None:
        """Each job's hash and its place on its queue, in one MULTI/EXEC."""
        pipe = self.redis.pipeline(transaction=True)
        for result, fields in jobs:
            pipe.hset(self.keys.job(result.id), mapping=fields)
            pipe.lpush(self.keys.queue(result.task.queue_name), result.id)
        pipe.execute()
        for result, _fields in jobs:
            task_enqueued.send(type(self), task_result=result)

    def get_result(self, result_id: str) -> TaskResult:
        data = self.redis.hgetall(self.keys.job(result_id))
        if not data:
            raise TaskResultDoesNotExist(result_id)
        return self._result(result_id, data)

    def _result(self, job_id: str, data: dict[str, str]) -> TaskResult:
        task = import_string(data["task"])
        if data.get("queue") and data["queue"] != task.queue_name:
            task = task.using(queue_name=data["queue"])
        result = TaskResult(
            task=task,
            id=job_id,
            status=TaskResultStatus(data["status"]),
            enqueued_at=_moment(data.get("enqueued_at")),
            started_at=_moment(data.get("started_at")),
            last_attempted_at=_moment(data.get("last_attempted_at")),
            finished_at=_moment(data.get("finished_at")),
            args=json.loads(data.get("args") or "[]"),
            kwargs=json.loads(data.get("kwargs") or "{}"),
            backend=self.alias,
            errors=[TaskError(**e) for e in json.loads(data.get("errors") or "[]")],
            worker_ids=json.loads(data.get("worker_ids") or "[]"),
        )
        if "return_value" in data:
            object.__setattr__(result, "_return_value", json.loads(data["return_value"]))
        return result

    # --- reading the queue ------------------------------------------------------------------

    def state(self) -> QueueState:
        """Counts for the health page (a handful of commands, whatever the queue's length)."""
        r = self.redis
        waiting, oldest = 0, None
        for name in sorted(self.queues):
            key = self.keys.queue(name)
            waiting += r.llen(key)
            last = r.lindex(key, -1)  # the right end is taken next: the oldest
            since = _moment(r.hget(self.keys.job(last), "enqueued_at")) if last else None
            if since and (oldest is None or since < oldest):
                oldest = since
        workers = list(r.smembers(self.keys.workers))
        alive = sum(r.exists(self.keys.lease(w)) for w in workers)
        running = sum(r.llen(self.keys.processing(w)) for w in workers)
        day_ago = (timezone.now() - timedelta(days=1)).timestamp()
        failed = r.zcount(self.keys.failed, day_ago, "+inf")
        last_failure = ""
        if failed:
            last_id = r.zrevrange(self.keys.failed, 0, 0)[0]
            task_path, errors = r.hmget(self.keys.job(last_id), "task", "errors")
            error = (json.loads(errors or "[]") or [{}])[-1]
            last_failure = f"{task_path}: {error.get('exception_class_path', '?')}"
        return QueueState(
            waiting=waiting,
            oldest_waiting_since=oldest,
            running=running,
            workers_alive=alive,
            failed_last_day=failed,
            last_failure=last_failure,
        )

    def finished_ids(self, *, limit: int = 100) -> list[str]:
        """The most recently finished jobs, newest first."""
        return list(self.redis.zrevrange(self.keys.finished, 0, limit - 1))

    def reap(self) -> int:
        """Put back the jobs of every worker whose lease expired; how many were put back."""
        moved = int(self.redis.eval(REAP, 1, self.keys.workers, self.keys.root))
        if moved:
            logger.warning("Put back %d task(s) of worker(s) whose lease expired", moved)
        return moved


def _worker_id() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}:{secrets.token_hex(4)}"


def _lease_lost_exit() -> None:
    logger.critical(
        "This worker could not renew its lease in Redis: it stops now so that no other worker "
        "runs its task at the same time (exit %d).",
        EXIT_LEASE_LOST,
    )
    logging.shutdown()
    os._exit(EXIT_LEASE_LOST)


class RedisWorker:
    """Takes tasks from the backend's queues and runs them, one at a time.

        worker = RedisWorker(backend)
        worker.start()                   # register, lease, heartbeat thread
        while running: worker.run_one(timeout=1.0)
        worker.stop()                    # lease given back

    `on_lease_lost` is called (from the heartbeat thread) while a task runs if the lease could not
    be renewed in time: by default it ends the process at once."""

    def __init__(
        self,
        backend: RedisBackend,
        *,
        queues: Iterable[str] | None = None,
        worker_id: str | None = None,
        lease: float = DEFAULT_LEASE_SECONDS,
        heartbeat: float = DEFAULT_HEARTBEAT_SECONDS,
        on_lease_lost: Callable[[], None] = _lease_lost_exit,
    ) -> None:
        if not 0 < heartbeat * 3 <= lease * 1.000001:
            raise ValueError("The heartbeat must come at least three times per lease.")
        self.backend = backend
        self.keys = backend.keys
        self.queues = sorted(queues or backend.queues)
        self.worker_id = worker_id or _worker_id()
        self.lease = lease
        self.heartbeat = heartbeat
        self.on_lease_lost = on_lease_lost
        self.processing = self.keys.processing(self.worker_id)
        self._renewed_at = 0.0  # monotonic time of the last renewal request that succeeded
        self._running: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_reap = 0.0
        self._finish = backend.redis.register_script(FINISH)
        # The heartbeat's own connection, with short timeouts: a hung Redis must not hold a
        # renewal past the moment this worker has to give up.
        self._beat_timeout = min(heartbeat / 2, 2.0)
        self._beat_redis = backend.client(timeout=self._beat_timeout)

    @property
    def redis(self) -> Any:
        return self.backend.redis

    # --- lease ------------------------------------------------------------------------------

    def start(self) -> None:
        """Register, take the lease and start the heartbeat."""
        self._take_lease()
        self._thread = threading.Thread(
            target=self._beat, name="tierline-task-heartbeat", daemon=True
        )
        self._thread.start()

    def _renew(self) -> bool:
        """Extend the lease; False if it had already expired (the reaper may have our task)."""
        asked = time.monotonic()
        renewed = self._beat_redis.set(
            self.keys.lease(self.worker_id), self.worker_id, px=int(self.lease * 1000), xx=True
        )
        if renewed:
            self._renewed_at = asked
        return bool(renewed)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            try:
                if self._renew():
                    continue
                lost = True
            except Exception:
                logger.exception("The task worker could not renew its lease")
                # Time for another try (a nap and a timeout) before the lease can run out? The
                # lease counts from when we last asked, no later than when Redis started it.
                next_answer = time.monotonic() + self.heartbeat + self._beat_timeout
                lost = next_answer >= self._renewed_at + self.lease
            if lost and self._running is not None:
                self.on_lease_lost()
                return
            if lost:
                self._rejoin()

    def _rejoin(self) -> None:
        """Idle, and the lease is gone (or going): take a new one, nothing is lost."""
        try:
            self._take_lease()
        except Exception:
            logger.exception("The task worker could not take a new lease")

    def _take_lease(self) -> None:
        asked = time.monotonic()
        pipe = self.redis.pipeline(transaction=True)
        pipe.sadd(self.keys.workers, self.worker_id)
        pipe.set(self.keys.lease(self.worker_id), self.worker_id, px=int(self.lease * 1000))
        pipe.execute()
        self._renewed_at = asked

    def stop(self) -> None:
        """Stop the heartbeat and give the lease back (a task still held goes back to its queue)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.heartbeat + 5)
        try:
            self.redis.delete(self.keys.lease(self.worker_id))
            self.backend.reap()
        except Exception:
            logger.exception("The task worker could not give its lease back")

    # --- work -------------------------------------------------------------------------------

    def _may_take(self) -> bool:
        """Take a task only with time left on the lease (never start what we'd have to abandon)."""
        return time.monotonic() < self._renewed_at + self.lease - 2 * self.heartbeat

    def _take(self, timeout: float) -> str | None:
        for name in self.queues:
            job_id = self.redis.lmove(self.keys.queue(name), self.processing, "RIGHT", "LEFT")
            if job_id:
                return job_id
        if timeout <= 0:
            return None
        # Wait on the first queue; the others are looked at again on the next call. (Never as
        # long as the client's own timeout.)
        return self.redis.blmove(
            self.keys.queue(self.queues[0]), self.processing, min(timeout, 5.0), "RIGHT", "LEFT"
        )

    def run_one(self, timeout: float = 1.0) -> TaskResult | None:
        """Take one task (waiting up to `timeout` seconds) and run it; its result, or None."""
        now = time.monotonic()
        if now >= self._next_reap:
            self._next_reap = now + min(self.heartbeat, 5.0)
            self.backend.reap()
            self._trim()
        if not self._may_take():
            time.sleep(min(timeout, 0.2))
            return None
        # Counted as running from before the take: a lease lost from here on stops the worker,
        # even if the id arrives in the same instant.
        self._running = "(taking)"
        try:
            job_id = self._take(timeout)
            if job_id is None:
                return None
            self._running = job_id
            return self._run(job_id)
        finally:
            self._running = None

    def drain(self) -> int:
        """Run tasks until every queue is empty; how many ran."""
        count = 0
        while self.run_one(timeout=0) is not None:
            count += 1
        return count

    def _run(self, job_id: str) -> TaskResult | None:
        key = self.keys.job(job_id)
        data = self.redis.hgetall(key)
        if not data:  # expired or deleted meanwhile: nothing to run
            self.redis.lrem(self.processing, 1, job_id)
            return None
        started = timezone.now()
        worker_ids = [*json.loads(data.get("worker_ids") or "[]"), self.worker_id]
        running = {
            "status": TaskResultStatus.RUNNING.value,
            "started_at": data.get("started_at") or _iso(started),
            "last_attempted_at": _iso(started),
            "worker_ids": json.dumps(worker_ids),
        }
        self.redis.hset(key, mapping=running)
        data.update(running)
        errors = json.loads(data.get("errors") or "[]")
        outcome: dict[str, str] = {}
        _tidy_connections()
        try:
            result = self.backend._result(job_id, data)
        except Exception as exc:  # the task's module or function is gone
            result = None
            errors.append(_error(exc))
        else:
            task_started.send(type(self.backend), task_result=result)
            try:
                if result.task.takes_context:
                    value = result.task.call(
                        TaskContext(task_result=result), *result.args, **result.kwargs
                    )
                else:
                    value = result.task.call(*result.args, **result.kwargs)
                outcome["return_value"] = json.dumps(normalize_json(value))
            except KeyboardInterrupt:
                raise  # Ctrl-C: the task stays in our processing list; stop() puts it back
            except BaseException as exc:
                errors.append(_error(exc))
            finally:
                _tidy_connections()
        failed = "return_value" not in outcome
        finished = timezone.now()
        outcome.update(
            status=(TaskResultStatus.FAILED if failed else TaskResultStatus.SUCCESSFUL).value,
            finished_at=_iso(finished),
            errors=json.dumps(errors),
        )
        fields = [part for pair in outcome.items() for part in pair]
        written = self._finish(
            keys=[self.processing, key, self.keys.finished, self.keys.failed],
            args=[
                job_id,
                int(timedelta(days=RESULT_DAYS).total_seconds()),
                finished.timestamp(),
                "1" if failed else "0",
                *fields,
            ],
        )
        if not written:
            logger.warning("Task %s finished after this worker lost it; result not written", job_id)
            return None
        if result is None:
            logger.error("Task %s (%s) could not be loaded: %s", job_id, data.get("task"), errors)
            return None
        object.__setattr__(result, "status", TaskResultStatus(outcome["status"]))
        object.__setattr__(result, "finished_at", finished)
        object.__setattr__(result, "errors", [TaskError(**e) for e in errors])
        if not failed:
            object.__setattr__(result, "_return_value", json.loads(outcome["return_value"]))
        task_finished.send(type(self.backend), task_result=result)
        return result

    def _trim(self) -> None:
        """Forget finished entries older than the results are kept."""
        cutoff = (timezone.now() - timedelta(days=RESULT_DAYS)).timestamp()
        pipe = self.redis.pipeline(transaction=False)
        pipe.zremrangebyscore(self.keys.finished, "-inf", cutoff)
        pipe.zremrangebyscore(self.keys.failed, "-inf", cutoff)
        pipe.execute()


def _tidy_connections() -> None:
    """Drop broken or expired database connections around a task, as Django does around a
    request; never inside a transaction (a test's), where closing would lose its work."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


def _error(exc: BaseException) -> dict[str, str]:
    return {
        "exception_class_path": get_module_path(type(exc)),
        "traceback": get_exception_traceback(exc),
    }

"""Tasks through Redis (`tierline.core.redis_tasks`): what queueing and taking a task costs.

    python bench/tasks_redis.py                       Redis at redis://127.0.0.1:6379/11
    python bench/tasks_redis.py --redis-url redis://host:6379/0 --tasks 5000

Against the real Redis, keys under a prefix of their own (deleted afterwards), no database:

  enqueue          one `task.enqueue()` outside a transaction (a hash and a list push)
  pick-up          from enqueue to the task starting, a worker waiting in BLMOVE in a thread
  worker           one task taken, marked running, run (it does nothing), result written,
                   each of N queued tasks drained by one worker
  reap             one reaper pass with 50 registered workers, all alive

Prints median, p95 and N. Not a test: nothing here asserts, and the suite never runs it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import percentile  # noqa: E402

STARTED: dict[int, float] = {}


def noop(*, n: int) -> int:
    STARTED[n] = time.perf_counter()
    return n


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    p.add_argument("--tasks", type=int, default=2000, help="tasks per measure (default 2000)")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    prefix = f"tierline-bench-{secrets.token_hex(4)}"
    os.environ.setdefault("TIERLINE_DATA_DIR", str(Path(os.environ.get("TMPDIR", "/tmp"))))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tierline.settings",
        TIERLINE_REDIS_URL=args.redis_url,
        TIERLINE_TASKS="redis",
        TIERLINE_REDIS_PREFIX=prefix,
    )
    import django

    django.setup()
    from django_tasks import task, task_backends

    from tierline.core.redis_tasks import RedisWorker

    # A task at module level, where the worker looks it up (__main__.noop), made once Django
    # (and so the task backend) is set up.
    globals()["noop"] = noop_task = task()(noop)
    backend = task_backends["default"]
    rows = []
    try:
        # enqueue
        times = []
        for n in range(args.tasks):
            started = time.perf_counter()
            noop_task.enqueue(n=n)
            times.append(time.perf_counter() - started)
        rows.append(("enqueue", times))
        # worker overhead: drain what was just queued
        worker = RedisWorker(backend, worker_id="bench-1")
        worker.start()
        per_task = []
        while True:
            started = time.perf_counter()
            if worker.run_one(timeout=0) is None:
                break
            per_task.append(time.perf_counter() - started)
        rows.append(("worker: take, run, write (per task)", per_task))
        # pick-up latency: a worker waiting in BLMOVE
        STARTED.clear()
        stop = threading.Event()

        def take() -> None:
            while not stop.is_set():
                worker.run_one(timeout=1)

        thread = threading.Thread(target=take)
        thread.start()
        waits = []
        for n in range(min(args.tasks, 500)):
            queued = time.perf_counter()
            noop_task.enqueue(n=n)
            while n not in STARTED:
                time.sleep(0.0002)
            waits.append(STARTED[n] - queued)
        stop.set()
        thread.join()
        rows.append(("pick-up (enqueue to start)", waits))
        # reap
        others = [RedisWorker(backend, worker_id=f"bench-other-{i}") for i in range(50)]
        for other in others:
            other.start()
        reaps = []
        for _ in range(200):
            started = time.perf_counter()
            backend.reap()
            reaps.append(time.perf_counter() - started)
        rows.append(("reap, 50 live workers", reaps))
        for other in others:
            other.stop()
        worker.stop()
    finally:
        keys = list(backend.redis.scan_iter(match="{" + prefix + "}:*", count=1000))
        if keys:
            backend.redis.delete(*keys)
    info = backend.redis.info("server")
    print(f"\nRedis {info['redis_version']} at {args.redis_url}; load {os.getloadavg()[0]:.1f}")
    print(f"{'measure':<36} {'median ms':>10} {'p95 ms':>10} {'N':>7}")
    for name, values in rows:
        print(
            f"{name:<36} {statistics.median(values) * 1000:>10.3f} "
            f"{percentile(values, 0.95) * 1000:>10.3f} {len(values):>7}"
        )


if __name__ == "__main__":
    main()

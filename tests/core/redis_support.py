"""Redis for the worker tests: the real server on this machine, a key prefix of our own per test.

The tests skip, saying why, when Redis does not answer, unless TIERLINE_REQUIRE_REDIS is set
(CI sets it; `scripts/ensure-redis.sh` installs and starts Redis). TIERLINE_TEST_REDIS_URL
chooses the server (default redis://127.0.0.1:6379/11); each test uses its own key prefix and
deletes its keys afterwards, so parallel runs never meet.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from tierline.core.redis_tasks import RedisBackend

REDIS_URL = os.environ.get("TIERLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


def _reachable() -> str:
    """ "" if Redis answers, else why not."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


@pytest.fixture
def redis_url() -> str:
    problem = _reachable()
    if problem:
        message = (
            f"Redis does not answer at {REDIS_URL} ({problem}); start it with "
            "scripts/ensure-redis.sh (TIERLINE_REQUIRE_REDIS=1 turns this skip into a failure)"
        )
        if os.environ.get("TIERLINE_REQUIRE_REDIS"):
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted when the test ends."""
    import redis

    prefix = f"tierline-test-{secrets.token_hex(6)}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match="{" + prefix + "}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def backend_options(url: str, prefix: str) -> dict:
    return {"URL": url, "PREFIX": prefix}


@pytest.fixture
def redis_backend(redis_url, redis_prefix) -> RedisBackend:
    """A Redis backend of its own (the project's default backend stays as it is)."""
    return RedisBackend("default", {"OPTIONS": backend_options(redis_url, redis_prefix)})


@pytest.fixture
def redis_default_backend(settings, redis_url, redis_prefix) -> RedisBackend:
    """The project's default task backend switched to Redis, as TIERLINE_REDIS_URL does."""
    from django_tasks import task_backends

    settings.TASKS = {
        "default": {
            "BACKEND": "tierline.core.redis_tasks.RedisBackend",
            "OPTIONS": backend_options(redis_url, redis_prefix),
        }
    }
    return task_backends["default"]


def jobs_of(backend: RedisBackend, task_path: str) -> list[dict[str, str]]:
    """The stored jobs (hashes) of one task, whatever their state."""
    found = []
    for key in backend.redis.scan_iter(match=backend.keys.job("*"), count=1000):
        data = backend.redis.hgetall(key)
        if data.get("task") == task_path:
            found.append(data)
    return found

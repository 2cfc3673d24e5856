"""Fixtures of the core tests: Redis for the worker tests (tests/core/redis_support.py)."""

from tests.core.redis_support import (  # noqa: F401
    redis_backend,
    redis_default_backend,
    redis_prefix,
    redis_url,
)

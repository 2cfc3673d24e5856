"""Core's periodic jobs, registered when Django starts (CoreConfig.ready imports this)."""

from __future__ import annotations

from tierline.core import idempotency
from tierline.core.scheduler import every, register

FORGET_IDEMPOTENCY_KEYS = register(
    "forget-idempotency-keys", schedule=every(hours=1), run=idempotency.forget_expired
)

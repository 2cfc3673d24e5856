"""The assets app's periodic jobs, registered when Django starts (AssetsConfig.ready)."""

from __future__ import annotations

from tierline.assets.tasks import evaluate_compliance, sweep_health
from tierline.core.scheduler import every, register


def enqueue_sweep_health() -> object:
    # Enqueued, not called: with TIERLINE_TASKS=database the worker runs it.
    return sweep_health.enqueue()


# Every 15 minutes: the health conditions' tickets, and the diagnostic requests that expired.
SWEEP_HEALTH = register("assets-health", schedule=every(minutes=15), run=enqueue_sweep_health)


def enqueue_evaluate_compliance() -> object:
    return evaluate_compliance.enqueue()


# Hourly: evaluates every device only when a policy changed or the day turned; always
# rewrites today's snapshot (the trend).
COMPLIANCE = register(
    "assets-compliance", schedule=every(minutes=60), run=enqueue_evaluate_compliance
)

"""The assist app's periodic jobs, registered when Django starts (AssistConfig.ready)."""

from __future__ import annotations

from tierline.assist.tasks import retrain_models
from tierline.core.scheduler import calendar, register


def enqueue_retrain() -> object:
    # Enqueued, not called: with TIERLINE_TASKS=database the worker trains, not a web server.
    return retrain_models.enqueue()


RETRAIN = register("assist-retrain", schedule=calendar(days="sun", at="03:00"), run=enqueue_retrain)

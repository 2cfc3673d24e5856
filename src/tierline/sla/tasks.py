"""Background jobs of service targets. Each is safe to run twice."""

from __future__ import annotations

from django_tasks import task

from tierline.sla import services


@task()
def sweep_targets() -> int:
    """Record the targets newly at risk or breached (history entries on their tickets)."""
    return services.sweep()

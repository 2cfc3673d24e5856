"""Background jobs of the desk. Each takes ids or plain values and is safe to run twice."""

from __future__ import annotations

from django_tasks import task

from tierline.desk import services


@task()
def close_resolved_tickets() -> int:
    """Close tickets whose requester did not answer within the auto-close window."""
    return services.close_resolved_tickets()

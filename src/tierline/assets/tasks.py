"""Background jobs of the estate. Each is safe to run twice."""

from __future__ import annotations

from django_tasks import task

from tierline.assets import services


@task()
def sweep_health() -> dict[str, int]:
    """Open a ticket for each chosen health condition a device newly meets; resolve (or note)
    the ticket of each condition that cleared."""
    return services.sweep_health()


@task()
def evaluate_compliance() -> dict[str, int]:
    """Evaluate every device's security checks again (a policy changed, or a new day) and
    write today's compliance snapshot."""
    from tierline.assets import compliance

    return compliance.run()

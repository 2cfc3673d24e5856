"""Background jobs of the estate. Each is safe to run twice.

Imported one way: tasks call `services` and `compliance`; neither imports
a task (the admin queues `evaluate_compliance` after its commit)."""

from __future__ import annotations

from django_tasks import task

from tierline.assets import compliance, services


@task()
def sweep_health() -> dict[str, int]:
    """Open a ticket for each chosen health condition a device newly meets; resolve (or note)
    the ticket of each condition that cleared."""
    return services.sweep_health()


@task()
def evaluate_compliance() -> dict[str, int]:
    """Evaluate every device's security checks again (a policy changed, or a new day) and
    write today's compliance snapshot."""
    return compliance.run()

"""Background jobs of the estate. Each is safe to run twice.

Imported one way: tasks call `services`, `compliance` and `diagnostics`; none of those imports
a task (the admin queues `evaluate_compliance` after its commit)."""

from __future__ import annotations

from django_tasks import task

from tierline.assets import compliance, diagnostics, services


@task()
def sweep_health() -> dict[str, int]:
    """Open a ticket for each chosen health condition a device newly meets; resolve (or note)
    the ticket of each condition that cleared. And mark the diagnostic requests no agent
    answered in time expired (the rows are kept, for the asset page and the ticket)."""
    expired = diagnostics.expire_overdue()
    return {**services.sweep_health(), "diagnostics_expired": expired}


@task()
def evaluate_compliance() -> dict[str, int]:
    """Evaluate every device's security checks again (a policy changed, or a new day) and
    write today's compliance snapshot."""
    return compliance.run()

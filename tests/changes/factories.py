"""Factories for change records, made through the services as real ones are."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tierline.changes import services
from tierline.changes.models import ChangeRequest, Kind


def change(by: Any, *, approvers: tuple = (), **values: Any) -> ChangeRequest:
    """A draft with a plan and a rollback plan, a window starting tomorrow."""
    start = timezone.now() + timedelta(days=1)
    values.setdefault("title", "Upgrade the print server")
    values.setdefault("kind", Kind.NORMAL)
    values.setdefault("plan", "Stop the spooler, upgrade, start it.")
    values.setdefault("rollback_plan", "Restore last night's snapshot.")
    values.setdefault("window_start", start)
    values.setdefault("window_end", start + timedelta(hours=2))
    return services.create_change(by=by, approvers=approvers, **values)


def fresh(change: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.get(pk=change.pk)

"""Writing and reading the history trail (core.HistoryEntry)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from tierline.core.models import HistoryEntry


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value)
    return str(value)


def record(
    target: models.Model,
    actor: Any,
    action: str,
    *,
    field: str = "",
    old: Any = None,
    new: Any = None,
    summary: str = "",
    at: Any = None,
) -> HistoryEntry:
    """Append one history entry for `target`."""
    return HistoryEntry.objects.create(
        content_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        object_id=target.pk,
        actor=actor if getattr(actor, "pk", None) else None,
        created_at=at or timezone.now(),
        action=action,
        field=field,
        old_value=_display(old),
        new_value=_display(new),
        summary=summary,
    )


def record_changes(
    target: models.Model,
    actor: Any,
    changes: Iterable[tuple[str, Any, Any]],
    *,
    action: str = "changed",
) -> list[HistoryEntry]:
    """One entry per (field, old, new) whose value actually changed."""
    content_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
    now = timezone.now()
    rows = [
        HistoryEntry(
            content_type=content_type,
            object_id=target.pk,
            actor=actor if getattr(actor, "pk", None) else None,
            created_at=now,
            action=action,
            field=field,
            old_value=_display(old),
            new_value=_display(new),
        )
        for field, old, new in changes
        if old != new
    ]
    return HistoryEntry.objects.bulk_create(rows)


def history_of(target: models.Model) -> QuerySet[HistoryEntry]:
    """Every entry of one record, oldest first, with the actor loaded."""
    return HistoryEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        object_id=target.pk,
    ).select_related("actor")

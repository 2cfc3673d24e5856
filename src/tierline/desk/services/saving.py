"""The one versioned save of the desk's rows (tickets and work orders): optimistic locking."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models import F
from django.utils import timezone

from tierline.core.errors import StaleEdit
from tierline.desk.models import OPEN_STATUSES, Ticket


def _derived(row: models.Model) -> dict[str, object]:
    """Columns stored for an index but derived from others: written with every save."""
    if isinstance(row, Ticket):
        row.is_open = row.status in OPEN_STATUSES
        return {"is_open": row.is_open}
    return {}


def save_versioned(
    row: models.Model, fields: Iterable[str], *, expected_version: int | None = None
) -> None:
    """Write `fields` of `row` (and `updated_at`) in one UPDATE and bump its version.

    Refuses with StaleEdit when someone else saved since `expected_version` (a form's loaded
    version), or since this instance was read when none is given. Nothing is overwritten
    silently.
    """
    row.updated_at = timezone.now()
    values = {name: getattr(row, name) for name in {*fields, "updated_at"}}
    values.update(_derived(row))
    version = row.version if expected_version is None else expected_version
    changed = (
        type(row)
        ._default_manager.filter(pk=row.pk, version=version)
        .update(version=F("version") + 1, **values)
    )
    if not changed:
        raise StaleEdit()
    row.version = version + 1

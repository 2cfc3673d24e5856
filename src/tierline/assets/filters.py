"""The FilterSet of the estate's change log in the API (`GET /api/v1/system-changes/`) and the
order it allows (core/lists.py: each order named with the index that serves it)."""

from __future__ import annotations

from datetime import datetime

import django_filters as filters
from django import forms
from django.db.models import QuerySet

from tierline.assets.models import ChangeKind, SystemChange
from tierline.core.inputs import MAX_ID, BoundedDateTimeField
from tierline.core.lists import Ordering

# Newest first, along (seen_at, id); filtered by asset or kind, the (asset, seen_at, id) and
# (kind, seen_at, id) indexes serve the same order.
SYSTEM_CHANGE_ORDERINGS = {
    "-seen": Ordering(("-seen_at", "-pk"), "assets_change_seen_idx", "Newest first"),
}


class _AssetIdField(forms.IntegerField):
    """An asset's id: a whole number a database integer holds (else a clear error, not an
    overflow in the database)."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)  # type: ignore[arg-type]


class AssetIdFilter(filters.NumberFilter):
    field_class = _AssetIdField


class SinceFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 date and time (a date alone is its midnight; no offset: the site's time
    zone), between 1970 and 2999."""

    field_class = BoundedDateTimeField


class SystemChangeFilter(filters.FilterSet):
    """What the agents saw change: on one asset, of one kind, since a moment."""

    asset = AssetIdFilter(field_name="asset_id", label="The asset's id.")
    kind = filters.ChoiceFilter(choices=ChangeKind.choices, label="What changed.")
    since = SinceFilter(
        method="filter_since",
        label="Changes seen at or after this moment (ISO 8601: 2026-11-30T08:00:00Z or a date).",
    )

    class Meta:
        model = SystemChange
        fields: list[str] = []

    def filter_since(self, queryset: QuerySet, name: str, value: datetime) -> QuerySet:
        return queryset.filter(seen_at__gte=value)

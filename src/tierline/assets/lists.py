"""The assets app's lists declared once (core/lists.py): the estate's change log for the API."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tierline.assets.filters import SYSTEM_CHANGE_ORDERINGS, SystemChangeFilter
from tierline.assets.models import SystemChange
from tierline.core.lists import ListSpec


def _visible_changes(user: Any, queryset: QuerySet[SystemChange]) -> QuerySet[SystemChange]:
    # The help desk sees every device's log (as on /assets/changes/); a requester nothing.
    return queryset if getattr(user, "is_staff_member", False) else queryset.none()


# Not counted: the log grows by every report that changes something; a page knows only
# whether another follows.
SYSTEM_CHANGES = ListSpec(
    model=SystemChange,
    visible=_visible_changes,
    filterset=SystemChangeFilter,
    orderings=SYSTEM_CHANGE_ORDERINGS,
    default_ordering="-seen",
    columns=("asset",),
)

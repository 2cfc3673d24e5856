"""Read-side: change records shaped for the list, the calendar, a change's page and the
ticket page's panel."""

from __future__ import annotations

import calendar as calendar_module
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from tierline.changes.models import ChangeAsset, ChangeRequest, ChangeTicket, Status
from tierline.core.history import history_of
from tierline.core.labels import Label, labels_for

ASSET = "assets.asset"

# The orders the list allows: ?sort= value -> order_by.
ORDERS: dict[str, tuple[Any, ...]] = {
    "-created": ("-created_at", "-pk"),
    "created": ("created_at", "pk"),
    "number": ("pk",),
    "-number": ("-pk",),
    # No window last either way, on SQLite as on PostgreSQL (their NULL orders differ).
    "window": (F("window_start").asc(nulls_last=True), "pk"),
    "-window": (F("window_start").desc(nulls_last=True), "-pk"),
    "risk": ("risk", "pk"),
    "-risk": ("-risk", "-pk"),
    "-updated": ("-updated_at", "-pk"),
}
DEFAULT_ORDER = "-created"


def changes_for_list() -> QuerySet[ChangeRequest]:
    return ChangeRequest.objects.select_related("requested_by", "owner")


def change_page(pk: int) -> ChangeRequest | None:
    return changes_for_list().filter(pk=pk).first()


def approvals_of(change: ChangeRequest) -> list[Any]:
    return list(change.approvals.select_related("approver").order_by("pk"))


def linked_ticket_ids(change: ChangeRequest) -> list[int]:
    return list(ChangeTicket.objects.filter(change=change).values_list("ticket_id", flat=True))


def linked_asset_ids(change: ChangeRequest) -> list[int]:
    return list(
        ChangeAsset.objects.filter(change=change)
        .order_by("asset_id")
        .values_list("asset_id", flat=True)
    )


def linked_assets(change: ChangeRequest) -> list[tuple[int, Label | None]]:
    """The linked assets' ids with their labels from the assets app (core.labels, one query
    for all); None for an id no asset has any more."""
    ids = linked_asset_ids(change)
    labels = labels_for(ASSET, ids)
    return [(pk, labels.get(pk)) for pk in ids]


def changes_linked_to_asset(asset_id: int, limit: int = 20) -> list[ChangeRequest]:
    return list(
        ChangeRequest.objects.filter(asset_links__asset_id=asset_id).order_by("-pk")[:limit]
    )


def changes_linked_to_ticket(ticket_id: int, limit: int = 20) -> list[ChangeRequest]:
    return list(
        ChangeRequest.objects.filter(ticket_links__ticket_id=ticket_id).order_by("-pk")[:limit]
    )


def history_for(change: ChangeRequest) -> QuerySet[Any]:
    return history_of(change).order_by("-created_at", "-pk")


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The month from its first midnight to the next month's, in the current time zone."""
    zone = timezone.get_current_timezone()
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (
        timezone.make_aware(datetime.combine(first, time.min), zone),
        timezone.make_aware(datetime.combine(following, time.min), zone),
    )


def calendar_month(year: int, month: int) -> list[tuple[date, list[ChangeRequest]]]:
    """The month's days that have a change in its window, each with those changes (a window
    over several days is shown on each; cancelled changes left out). Windows are compared as
    intervals: one that ends exactly at midnight does not spill into the next day."""
    start, end = month_bounds(year, month)
    rows = list(
        changes_for_list()
        .filter(window_start__lt=end, window_end__gt=start)
        .exclude(status=Status.CANCELLED)
        .order_by("window_start", "pk")[:1000]
    )
    days: dict[date, list[ChangeRequest]] = {}
    last_day = calendar_module.monthrange(year, month)[1]
    for change in rows:
        first = max(timezone.localtime(change.window_start), start)
        last = min(timezone.localtime(change.window_end), end) - timedelta(microseconds=1)
        day = first.date()
        while day <= last.date() and day.month == month and day.day <= last_day:
            days.setdefault(day, []).append(change)
            day += timedelta(days=1)
    return sorted(days.items())

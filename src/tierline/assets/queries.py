"""Read-side: assets shaped for the list, the asset page and the desk's panels."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from tierline.assets.models import AgentDevice, Asset, AssetTicket, InstalledSoftware
from tierline.core.history import history_of

# The orders the list allows: ?sort= value -> order_by.
ORDERS: dict[str, tuple[str, ...]] = {
    "tag": ("tag", "pk"),
    "-tag": ("-tag", "-pk"),
    "hostname": ("hostname", "pk"),
    "-hostname": ("-hostname", "-pk"),
    "status": ("status", "pk"),
    "-status": ("-status", "-pk"),
    "last_seen": ("last_seen_at", "pk"),
    "-last_seen": ("-last_seen_at", "-pk"),
}


def assets_for_list() -> QuerySet[Asset]:
    """Assets with what a list row shows, and when an agent last reported each."""
    last_seen = (
        AgentDevice.objects.filter(asset=OuterRef("pk"))
        .order_by("-last_seen_at")
        .values("last_seen_at")[:1]
    )
    return Asset.objects.select_related("asset_type", "location", "assigned_to").annotate(
        last_seen_at=Subquery(last_seen)
    )


def asset_page(pk: int) -> Asset | None:
    return assets_for_list().filter(pk=pk).first()


def software_of(asset: Asset) -> QuerySet[InstalledSoftware]:
    return InstalledSoftware.objects.filter(asset=asset).order_by("name")


def history_for(asset: Asset) -> QuerySet[Any]:
    return history_of(asset).order_by("-created_at", "-pk")


def linked_ticket_ids(asset: Asset) -> list[int]:
    return list(AssetTicket.objects.filter(asset=asset).values_list("ticket_id", flat=True))


def assets_of_person(person_id: int, limit: int = 10) -> list[Asset]:
    """The devices assigned to one person (the requester card)."""
    return list(
        assets_for_list().filter(assigned_to_id=person_id).exclude(status="disposed")[:limit]
    )


def assets_of_people(person_ids: list[int], limit: int = 10) -> dict[int, list[Asset]]:
    """{person id: their devices (at most `limit` each)} in one query."""
    found: dict[int, list[Asset]] = {}
    rows = (
        assets_for_list()
        .filter(assigned_to_id__in=person_ids)
        .exclude(status="disposed")
        .order_by("assigned_to_id", "tag", "pk")
    )
    for asset in rows:
        mine = found.setdefault(asset.assigned_to_id, [])
        if len(mine) < limit:
            mine.append(asset)
    return found


def assets_linked_to_ticket(ticket_id: int) -> list[Asset]:
    return list(assets_for_list().filter(ticket_links__ticket_id=ticket_id))

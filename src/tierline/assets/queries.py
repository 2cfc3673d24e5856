"""Read-side: assets shaped for the list, the asset page and the desk's panels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from tierline.assets.compliance_models import Outcome
from tierline.assets.health import Flag, Thresholds, flags_of
from tierline.assets.models import (
    AgentDevice,
    Asset,
    AssetTicket,
    ChangeKind,
    InstalledSoftware,
    PolicyResult,
    Status,
    SystemChange,
)
from tierline.core.history import history_of
from tierline.core.labels import Label

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
    # NULLS LAST: PostgreSQL sorts NULL first in a descending order, and a device enrolled
    # again (no report yet) would hide the last report of the one before it.
    last_seen = (
        AgentDevice.objects.filter(asset=OuterRef("pk"))
        .order_by(F("last_seen_at").desc(nulls_last=True))
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


def changes_of(asset: Asset, *, kind: str = "") -> QuerySet[SystemChange]:
    """An asset's change log, newest first; `kind` one of ChangeKind (else every kind)."""
    rows = SystemChange.objects.filter(asset=asset)
    if kind in ChangeKind.values:
        rows = rows.filter(kind=kind)
    return rows.order_by("-seen_at", "-pk")


def estate_changes(
    *, since: datetime | None = None, kind: str = "", search: str = ""
) -> QuerySet[SystemChange]:
    """What the agents saw change across the estate, newest first, with each row's asset:
    since a moment, of one kind, on assets whose tag or hostname has `search`, or whose
    changed item (a package, a mount) is `search`."""
    rows = SystemChange.objects.select_related("asset")
    if since is not None:
        rows = rows.filter(seen_at__gte=since)
    if kind in ChangeKind.values:
        rows = rows.filter(kind=kind)
    if search:
        rows = rows.filter(
            Q(item__iexact=search)
            | Q(asset__hostname__icontains=search)
            | Q(asset__tag__iexact=search)
        )
    return rows.order_by("-seen_at", "-pk")


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


def can_import(user: Any) -> bool:
    """CSV import: team leads and administrators, or staff given both the "add asset" and
    "change asset" permissions (a group in Configuration)."""
    if not (user.is_authenticated and getattr(user, "is_staff_member", False)):
        return False
    return bool(
        user.is_lead or (user.has_perm("assets.add_asset") and user.has_perm("assets.change_asset"))
    )


# ---- the status board --------------------------------------------------------------------------

# Not expected to report: left off the board and out of the health job.
OFF_THE_BOARD = (Status.RETIRED, Status.DISPOSED)
BOARD_ORDERS = ("tag", "-tag", "hostname", "-hostname", "last_seen", "-last_seen", "health")


def devices() -> QuerySet[Asset]:
    """The devices the board watches: assets with an enrolled agent, or of a type the agent
    reports, that are not retired or disposed."""
    has_agent = Exists(AgentDevice.objects.filter(asset=OuterRef("pk"), revoked_at__isnull=True))
    return (
        assets_for_list()
        .filter(Q(asset_type__reported_by_agent=True) | Q(has_agent))
        .exclude(status__in=OFF_THE_BOARD)
    )


def device_health(
    *, now: datetime, thresholds: Thresholds, queryset: QuerySet[Asset] | None = None
) -> Iterator[tuple[Asset, list[Flag]]]:
    """Each device with the conditions it meets now, read in batches. Health is computed from
    the asset's latest inventory (disks, security) and its agent's last report, in Python: the
    JSON it reads is not queryable alike on SQLite and PostgreSQL."""
    rows = (queryset if queryset is not None else devices()).order_by("pk")
    failed = failed_checks(rows)
    for asset in rows.iterator(chunk_size=500):
        yield (
            asset,
            flags_of(
                hardware=asset.hardware,
                security=asset.security,
                last_seen=asset.last_seen_at,
                now=now,
                thresholds=thresholds,
                failed_checks=failed.get(asset.pk, ()),
            ),
        )


def failed_checks(assets: QuerySet[Asset]) -> dict[int, list[str]]:
    """{asset id: the names of the enabled security policies it fails}, in one query."""
    found: dict[int, list[str]] = {}
    rows = (
        PolicyResult.objects.filter(
            asset_id__in=assets.values("pk"), outcome=Outcome.FAIL, policy__enabled=True
        )
        .order_by("asset_id", "policy__name")
        .values_list("asset_id", "policy__name")
    )
    for asset_id, name in rows:
        found.setdefault(asset_id, []).append(name)
    return found


def status_board(
    *,
    now: datetime,
    thresholds: Thresholds,
    location_id: int | None = None,
    department_id: int | None = None,
    type_id: int | None = None,
    condition: str = "",
    sort: str = "tag",
) -> list[tuple[Asset, list[Flag]]]:
    """The board's rows: filtered by location, the assigned person's department and type in
    the query, by health after computing it, then sorted (health: most flags first)."""
    queryset = devices()
    if location_id:
        queryset = queryset.filter(location_id=location_id)
    if department_id:
        queryset = queryset.filter(assigned_to__department_id=department_id)
    if type_id:
        queryset = queryset.filter(asset_type_id=type_id)
    rows = list(device_health(now=now, thresholds=thresholds, queryset=queryset))
    if condition == "healthy":
        rows = [(asset, flags) for asset, flags in rows if not flags]
    elif condition == "any":
        rows = [(asset, flags) for asset, flags in rows if flags]
    elif condition:
        rows = [r for r in rows if any(f.condition == condition for f in r[1])]

    def text(asset: Asset, name: str) -> tuple[bool, str, int]:
        value = getattr(asset, name) or ""
        return (not value, value.casefold(), asset.pk)

    def seen(asset: Asset) -> tuple[bool, float, int]:
        at = asset.last_seen_at
        return (at is None, at.timestamp() if at else 0.0, asset.pk)

    key = sort.lstrip("-")
    if key in ("tag", "hostname"):
        rows.sort(key=lambda r: text(r[0], key), reverse=sort.startswith("-"))
    elif sort == "last_seen":  # the longest silent first, never seen last
        rows.sort(key=lambda r: seen(r[0]))
    elif sort == "-last_seen":
        rows.sort(key=lambda r: (r[0].last_seen_at is None, -seen(r[0])[1], r[0].pk))
    elif sort == "health":
        rows.sort(key=lambda r: (-len(r[1]), text(r[0], "tag")))
    return rows


def asset_labels(ids: list[int]) -> dict[int, Label]:
    """Names of assets for other apps' pages (core.labels, "assets.asset"): one query."""
    rows = Asset.objects.filter(pk__in=ids).select_related("asset_type")
    return {
        asset.pk: Label(
            text=str(asset),
            url=f"/assets/{asset.pk}/",
            detail=" · ".join(
                part
                for part in (
                    asset.hostname if asset.hostname != str(asset) else "",
                    asset.asset_type.name if asset.asset_type else "",
                )
                if part
            ),
        )
        for asset in rows
    }

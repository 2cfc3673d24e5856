"""Every change to the inventory by a person: one function each, one transaction each, one
history entry each (core.history). The agent's writes are in `assets.agent`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tierline.assets.models import Asset, AssetTicket, Status
from tierline.core.history import record, record_changes
from tierline.core.text import normalise_text

# The lifecycle: where an asset may go from each status. Disposed is the end.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    Status.ORDERED: (Status.IN_STOCK, Status.RETIRED),
    Status.IN_STOCK: (Status.DEPLOYED, Status.IN_REPAIR, Status.RETIRED),
    Status.DEPLOYED: (Status.IN_STOCK, Status.IN_REPAIR, Status.RETIRED),
    Status.IN_REPAIR: (Status.IN_STOCK, Status.DEPLOYED, Status.RETIRED),
    Status.RETIRED: (Status.IN_STOCK, Status.DISPOSED),
    Status.DISPOSED: (),
}

# The columns people edit (the inventory columns belong to the agent's reports).
EDITABLE = (
    "tag",
    "asset_type",
    "hostname",
    "serial",
    "make",
    "model",
    "supplier",
    "purchase_date",
    "purchase_cost",
    "warranty_end",
    "location",
    "assigned_to",
)
TEXT_FIELDS = {"tag", "hostname", "serial", "make", "model", "supplier"}


class AssetError(ValueError):
    """A change the inventory refuses; the message says why, for a person."""


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise AssetError(f"Not an editable field: {', '.join(sorted(unknown))}.")
    cleaned = dict(values)
    for name in TEXT_FIELDS & set(cleaned):
        label = str(Asset._meta.get_field(name).verbose_name).capitalize()
        try:
            text = normalise_text(cleaned[name] or "", label=label, multiline=False)
        except ValidationError as error:
            raise AssetError(error.messages[0]) from None
        cleaned[name] = text.strip()
        limit = Asset._meta.get_field(name).max_length
        if len(cleaned[name]) > limit:
            raise AssetError(f"{label} is longer than {limit} characters.")
    return cleaned


def _save(asset: Asset, fields: list[str]) -> None:
    try:
        with transaction.atomic():
            asset.save(update_fields=fields) if asset.pk else asset.save()
    except IntegrityError:
        raise AssetError(f"The asset tag “{asset.tag}” is taken by another asset.") from None


@transaction.atomic
def create_asset(*, by: Any, status: str = Status.IN_STOCK, **values: Any) -> Asset:
    """A new asset, entered by a person."""
    if status not in Status.values:
        raise AssetError(f"Unknown status “{status}”.")
    asset = Asset(status=status, **_clean(values))
    _save(asset, [])
    record(asset, by, "created", summary=str(asset))
    return asset


@transaction.atomic
def update_asset(*, asset: Asset, by: Any, **values: Any) -> Asset:
    """Change what people keep about an asset; one history entry per changed field."""
    cleaned = _clean(values)
    changes = [(name, getattr(asset, name), value) for name, value in cleaned.items()]
    changed = [(name, old, new) for name, old, new in changes if old != new]
    if not changed:
        return asset
    for name, _old, new in changed:
        setattr(asset, name, new)
    _save(asset, [name for name, _o, _n in changed])
    record_changes(asset, by, changed)
    return asset


@transaction.atomic
def set_status(*, asset: Asset, status: str, by: Any, note: str = "") -> Asset:
    """Move an asset along its lifecycle (NEXT_STATUSES); exactly one history entry."""
    if status not in Status.values:
        raise AssetError(f"Unknown status “{status}”.")
    if status == asset.status:
        return asset
    if status not in NEXT_STATUSES[asset.status]:
        raise AssetError(
            f"An asset that is {Status(asset.status).label.lower()} cannot become "
            f"{Status(status).label.lower()}."
        )
    old = asset.status
    updated = Asset.objects.filter(pk=asset.pk, status=old).update(status=status)
    if not updated:
        raise AssetError("Someone changed this asset's status meanwhile; look again.")
    asset.status = status
    try:
        note = normalise_text(note or "", label="The note").strip()
    except ValidationError as error:
        raise AssetError(error.messages[0]) from None
    record(
        asset,
        by,
        "status changed",
        field="status",
        old=Status(old).label,
        new=Status(status).label,
        summary=note,
    )
    return asset


@transaction.atomic
def link_ticket(*, asset: Asset, ticket: Any, by: Any) -> bool:
    """Link a ticket to an asset; True when the link is new (linking twice changes nothing)."""
    link, created = AssetTicket.objects.get_or_create(
        asset=asset, ticket=ticket, defaults={"linked_by": by if by.pk else None}
    )
    if created:
        record(asset, by, "ticket linked", summary=ticket.number)
    return created


@transaction.atomic
def unlink_ticket(*, asset: Asset, ticket: Any, by: Any) -> bool:
    deleted, _ = AssetTicket.objects.filter(asset=asset, ticket=ticket).delete()
    if deleted:
        record(asset, by, "ticket unlinked", summary=ticket.number)
    return bool(deleted)


@transaction.atomic
def set_needs_review(*, asset: Asset, value: bool, by: Any) -> Asset:
    """Mark an asset reviewed (or back to needing review); one history entry."""
    if asset.needs_review != value:
        Asset.objects.filter(pk=asset.pk).update(needs_review=value)
        record(asset, by, "changed", field="needs review", old=asset.needs_review, new=value)
        asset.needs_review = value
    return asset

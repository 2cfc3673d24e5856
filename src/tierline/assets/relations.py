"""Relations between assets: software on a device, a device on a switch, a monitor attached to
a device or on a desk. The only code that writes AssetRelation; one transaction and one
history entry on each of the two assets per change.

The rules, decided here:
- never to itself (also a CHECK constraint), never the same relation twice (a UNIQUE one);
- `connected_to` is symmetric: A connected to B is B connected to A, so the reverse is a
  duplicate; cycles of connections are allowed (network rings, redundant uplinks);
- `installed_on`, `attached_to` and `part_of` say where a thing is: a cycle of one of them
  (A part of B part of A) is nonsense and refused;
- `depends_on` may form cycles: two servers that need each other do exist, and the record
  should say so rather than hide it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from tierline.assets.models import Asset, AssetRelation, RelationKind
from tierline.core.history import record

SYMMETRIC = {RelationKind.CONNECTED_TO}
NO_CYCLES = {RelationKind.INSTALLED_ON, RelationKind.ATTACHED_TO, RelationKind.PART_OF}
# How a relation reads from its other end ("B has installed A").
REVERSE_LABELS: dict[str, str] = {
    RelationKind.INSTALLED_ON: "has installed",
    RelationKind.ATTACHED_TO: "has attached",
    RelationKind.CONNECTED_TO: "is connected to",
    RelationKind.PART_OF: "includes",
    RelationKind.DEPENDS_ON: "is needed by",
}
# A walk up a chain stops here: the estate's hierarchies are not this deep.
MAX_DEPTH = 1000


class RelationError(ValueError):
    """A relation the inventory refuses; the message says why, for a person."""


@dataclass(frozen=True)
class Related:
    """A relation as seen from one asset: "this asset <label> <other>"."""

    relation: AssetRelation
    label: str
    other: Asset


def direction_choices() -> list[tuple[str, str]]:
    """The relation form's choices, both ways: "installed_on" (this asset is installed on the
    other) and "~installed_on" (the other is installed on this one)."""
    choices = [(kind.value, str(kind.label)) for kind in RelationKind]
    choices += [
        (f"~{kind.value}", REVERSE_LABELS[kind.value])
        for kind in RelationKind
        if kind not in SYMMETRIC
    ]
    return choices


def _reaches(start: Asset, goal: Asset, kind: str) -> bool:
    """Whether following `kind` relations up from `start` arrives at `goal`."""
    seen: set[int] = set()
    frontier = {start.pk}
    for _ in range(MAX_DEPTH):
        if goal.pk in frontier:
            return True
        seen |= frontier
        frontier = (
            set(
                AssetRelation.objects.filter(from_asset_id__in=frontier, kind=kind).values_list(
                    "to_asset_id", flat=True
                )
            )
            - seen
        )
        if not frontier:
            return False
    return True


def check_relation(*, from_asset: Asset, to_asset: Asset, kind: str) -> None:
    """RelationError when the relation may not be added (see the module's rules)."""
    if kind not in RelationKind.values:
        raise RelationError(f"Unknown relation “{str(kind)[:40]}”.")
    if from_asset.pk == to_asset.pk:
        raise RelationError("An asset cannot be related to itself.")
    label = RelationKind(kind).label
    same = Q(from_asset=from_asset, to_asset=to_asset)
    if kind in SYMMETRIC:
        same |= Q(from_asset=to_asset, to_asset=from_asset)
    if AssetRelation.objects.filter(same, kind=kind).exists():
        raise RelationError(f"{from_asset} {label} {to_asset} already.")
    if kind in NO_CYCLES and _reaches(to_asset, from_asset, kind):
        raise RelationError(
            f"{to_asset} {label} {from_asset} already (directly or through others): "
            "that would make a circle."
        )


@transaction.atomic
def add_relation(*, from_asset: Asset, to_asset: Asset, kind: str, by: Any) -> AssetRelation:
    """Relate two assets; one history entry on each."""
    # Lock both rows (in id order) so two people relating the same pair wait for each other.
    list(
        Asset.objects.select_for_update().filter(pk__in=[from_asset.pk, to_asset.pk]).order_by("pk")
    )
    check_relation(from_asset=from_asset, to_asset=to_asset, kind=kind)
    try:
        with transaction.atomic():
            relation = AssetRelation.objects.create(
                from_asset=from_asset,
                to_asset=to_asset,
                kind=kind,
                created_by=by if getattr(by, "pk", None) else None,
            )
    except IntegrityError:
        raise RelationError(
            f"{from_asset} {RelationKind(kind).label} {to_asset} already."
        ) from None
    label = RelationKind(kind).label
    record(from_asset, by, "relation added", summary=f"{label} {to_asset}")
    record(to_asset, by, "relation added", summary=f"{REVERSE_LABELS[kind]} {from_asset}")
    return relation


@transaction.atomic
def remove_relation(*, relation_id: int, asset: Asset, by: Any) -> bool:
    """Remove a relation of `asset` (either end); one history entry on each; False when it
    was gone already."""
    relation = (
        AssetRelation.objects.select_related("from_asset", "to_asset")
        .filter(Q(from_asset=asset) | Q(to_asset=asset), pk=relation_id)
        .first()
    )
    if relation is None:
        return False
    relation.delete()
    label = RelationKind(relation.kind).label
    record(relation.from_asset, by, "relation removed", summary=f"{label} {relation.to_asset}")
    record(
        relation.to_asset,
        by,
        "relation removed",
        summary=f"{REVERSE_LABELS[relation.kind]} {relation.from_asset}",
    )
    return True


def relations_of(asset: Asset) -> list[Related]:
    """Both ways, as read from `asset` ("is installed on X", "has installed Y"); two queries."""
    rows: list[Related] = []
    out = AssetRelation.objects.filter(from_asset=asset).select_related("to_asset")
    for relation in out.order_by("kind", "to_asset__tag", "pk"):
        rows.append(Related(relation, str(relation.get_kind_display()), relation.to_asset))
    back = AssetRelation.objects.filter(to_asset=asset).select_related("from_asset")
    for relation in back.order_by("kind", "from_asset__tag", "pk"):
        rows.append(Related(relation, REVERSE_LABELS[relation.kind], relation.from_asset))
    return rows


def find_asset(reference: str) -> Asset | None:
    """The asset a person means by "LT-0042", "#17", "17" or a hostname: tag first (any case),
    then the number, then a hostname that only one asset has."""
    text = (reference or "").strip()[:253]
    if not text or "\x00" in text:
        return None
    found = Asset.objects.filter(tag__iexact=text).first()
    if found is not None:
        return found
    number = text.lstrip("#")
    if number.isdigit() and len(number) < 10:
        found = Asset.objects.filter(pk=int(number)).first()
        if found is not None:
            return found
    by_host = list(Asset.objects.filter(hostname__iexact=text)[:2])
    return by_host[0] if len(by_host) == 1 else None

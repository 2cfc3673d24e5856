"""Printable asset labels: which assets (ids chosen on the list, or the list's current
filter), checked and capped, turned into `pdf.Label`s whose QR code is the asset page's URL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from tierline.assets.models import Asset
from tierline.assets.pdf import PER_SHEET, Label
from tierline.core.inputs import parse_id

# Ten sheets: a print run, not a way to render the whole estate in one request.
LABELS_MAX = 10 * PER_SHEET


class LabelError(ValueError):
    """A selection the labels cannot be printed for; the message says why."""


def labels_max() -> int:
    return int(settings.TIERLINE.get("ASSET_LABELS_MAX", LABELS_MAX))


def site_url() -> str:
    """The address people reach Tierline at (`TIERLINE_SITE_URL`, the setting mail links use)."""
    configured = getattr(settings, "MAIL_OUT", {}).get("SITE_URL") or "http://127.0.0.1:8000"
    return str(configured).rstrip("/")


def asset_url(pk: int) -> str:
    return site_url() + reverse("assets:detail", args=[pk])


def _label(asset: Asset) -> Label:
    name = asset.hostname or " ".join(p for p in (asset.make, asset.model) if p) or asset.serial
    return Label(
        tag=asset.tag or "",
        name=name,
        kind=asset.asset_type.name if asset.asset_type else "",
        url=asset_url(asset.pk),
    )


def labels_for_ids(raw_ids: Sequence[Any], *, visible: QuerySet[Asset]) -> list[Label]:
    """Labels for the chosen ids, in the order chosen (a repeat once). Refused as a whole,
    with the reason: nothing chosen, more than `labels_max()`, something that is not an id,
    or an id that is not among the assets `visible` to this person."""
    if not raw_ids:
        raise LabelError("Choose the assets to print labels for.")
    cap = labels_max()
    if len(raw_ids) > cap:
        raise LabelError(
            f"{len(raw_ids):,} assets chosen; at most {cap:,} labels print at once. "
            "Choose fewer, or narrow the list's filters."
        )
    ids: list[int] = []
    for raw in raw_ids:
        pk = parse_id(raw)
        if pk is None:
            raise LabelError("The selection holds something that is not an asset.")
        if pk not in ids:
            ids.append(pk)
    found = {a.pk: a for a in visible.filter(pk__in=ids).select_related("asset_type")}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise LabelError(
            f"{len(missing)} of the chosen assets no longer exist or are not yours to see; "
            "reload the list and choose again."
        )
    return [_label(found[pk]) for pk in ids]


def labels_for_queryset(queryset: QuerySet[Asset]) -> list[Label]:
    """Labels for every asset the list's current filter shows, in its order; refused when
    that is none or more than `labels_max()` (one query beyond the cap: no count first)."""
    cap = labels_max()
    rows: Iterable[Asset] = queryset.select_related("asset_type")[: cap + 1]
    assets = list(rows)
    if not assets:
        raise LabelError("No assets match the list's filters.")
    if len(assets) > cap:
        raise LabelError(
            f"More than {cap:,} assets match the list's filters; at most {cap:,} labels print "
            "at once. Narrow the filters, or choose assets on the list."
        )
    return [_label(asset) for asset in assets]

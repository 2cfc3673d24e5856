"""Every change to the inventory by a person: one function each, one transaction each, one
history entry each (core.history). The agent's writes are in `assets.agent`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tierline.assets import compliance, health, importing, queries
from tierline.assets.models import (
    Asset,
    AssetTicket,
    Condition,
    ConditionRule,
    ConditionTicket,
    ImportBatch,
    Status,
)
from tierline.assets.validation import NEXT_STATUSES, AssetError, clean_text
from tierline.core.history import history_of, record, record_changes
from tierline.core.text import normalise_text
from tierline.desk import services as desk_services
from tierline.desk.choices import Channel
from tierline.desk.models import Ticket
from tierline.people.services import system_user

logger = logging.getLogger(__name__)

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


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise AssetError(f"Not an editable field: {', '.join(sorted(unknown))}.")
    cleaned = dict(values)
    for name in TEXT_FIELDS & set(cleaned):
        cleaned[name] = clean_text(name, cleaned[name])
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
    moved = {"asset_type", "assigned_to"} & {name for name, _o, _n in changed}
    if moved and asset.inventory_at is not None:
        # Which security policies apply may change; a device no agent reported has only
        # "unknown" results, which the compliance job keeps.
        compliance.evaluate_asset(asset=asset)
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


# ---- CSV import ------------------------------------------------------------------------------

# A preview older than this is not applied: the file is uploaded again and checked afresh.
IMPORT_PREVIEW_TTL = timedelta(hours=24)


def _file_name(name: str) -> str:
    return "".join(ch for ch in (name or "") if ch.isprintable())[:255]


@transaction.atomic
def preview_import(*, data: bytes, filename: str, by: Any) -> ImportBatch:
    """Read and check a CSV file (`assets.importing`) and keep the result as a preview for
    `by` to confirm. Nothing in the inventory changes. ImportFileError for a refused file."""
    parsed = importing.read_csv(data)
    checks = importing.check_rows(parsed.rows)
    # Previews nobody applied in time are of no use: each upload tidies them away. An applied
    # one stays, as the record of what the import did.
    ImportBatch.objects.filter(
        applied_at__isnull=True, created_at__lt=timezone.now() - IMPORT_PREVIEW_TTL
    ).delete()
    return ImportBatch.objects.create(
        created_by=by,
        filename=_file_name(filename),
        rows=[check.as_stored() for check in checks],
    )


def _apply_row(check: Any, by: Any) -> str:
    values = dict(check.values)
    if check.asset is None:
        create_asset(by=by, status=check.status or Status.IN_STOCK, **values)
        return "created"
    asset = check.asset
    update_asset(asset=asset, by=by, **values)
    if check.status and check.status != asset.status:
        set_status(asset=asset, status=check.status, by=by, note="CSV import")
    return "updated"


@transaction.atomic
def apply_import(*, batch_id: int, by: Any, all_or_nothing: bool) -> dict[str, Any]:
    """Apply a stored preview, in one transaction, as `by` (each asset's history names them).

    The stored cells are checked again against the inventory as it is now. With
    `all_or_nothing`, one row in error and nothing is applied (AssetError, the preview kept
    for another try); without it the valid rows are applied and the others reported. A
    preview is applied once, only by the person who uploaded it."""
    batch = ImportBatch.objects.filter(pk=batch_id, created_by=by).first()
    if batch is None:
        raise AssetError("No such import of yours; upload the file again.")
    now = timezone.now()
    if now - batch.created_at > IMPORT_PREVIEW_TTL:
        raise AssetError("This preview is more than a day old; upload the file again.")
    # One conditional UPDATE claims the preview: a second submit (another tab, a double click)
    # finds it taken. A refusal below rolls the claim back with everything else.
    if not ImportBatch.objects.filter(pk=batch.pk, applied_at__isnull=True).update(applied_at=now):
        raise AssetError("This import was applied already; nothing was changed again.")
    # A row in error at the preview stays one; the others are checked again, as things are now.
    errors = [
        {"line": row["line"], "reason": row["reason"]}
        for row in batch.rows
        if row["outcome"] == "error"
    ]
    checks = importing.check_rows(
        [(row["line"], row["cells"]) for row in batch.rows if row["outcome"] != "error"]
    )
    errors += [{"line": c.line, "reason": c.reason} for c in checks if c.outcome == "error"]
    errors.sort(key=lambda error: error["line"])
    if all_or_nothing and errors:
        raise AssetError(
            f"{len(errors)} row(s) have errors (the first: line {errors[0]['line']}, "
            f"{errors[0]['reason']}); nothing was applied."
        )
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for check in checks:
        if check.outcome == "error":
            continue
        if check.outcome == "unchanged":
            counts["unchanged"] += 1
            continue
        try:
            with transaction.atomic():
                counts[_apply_row(check, by)] += 1
        except AssetError as error:
            if all_or_nothing:
                raise AssetError(f"Line {check.line}: {error} Nothing was applied.") from None
            errors.append({"line": check.line, "reason": str(error)})
    summary = {**counts, "errors": sorted(errors, key=lambda e: e["line"])}
    ImportBatch.objects.filter(pk=batch.pk).update(all_or_nothing=all_or_nothing, summary=summary)
    return summary


# ---- health conditions that open tickets -----------------------------------------------------------


def _touched_by_a_person(ticket: Any) -> bool:
    """Someone took the ticket or wrote on it (took or assigned it, replied, noted, changed a
    field): a history entry by a person. The entries of system users (the opening, triage,
    service targets, a team's automatic assignment) do not count."""
    return history_of(ticket).filter(actor__isnull=False, actor__is_system=False).exists()


def _open_condition_ticket(asset: Asset, flag: Any, actor: Any, now: datetime) -> bool:
    try:
        with transaction.atomic():
            if ConditionTicket.objects.filter(
                asset=asset, condition=flag.condition, cleared_at__isnull=True
            ).exists():
                return False
            name = str(asset)
            ticket = desk_services.open_ticket(
                requester=actor,
                by=actor,
                subject=f"{name}: {flag.label.lower()}"[:200],
                description=(
                    f"The status board found this on {name}"
                    f"{f' ({asset.hostname})' if asset.hostname and asset.hostname != name else ''}"
                    f": {flag.label.lower()} ({flag.detail}).\n\n"
                    "This ticket is resolved by itself when the condition clears, unless "
                    "someone takes it or writes on it."
                ),
                channel=Channel.AGENT,
            )
            link_ticket(asset=asset, ticket=ticket, by=actor)
            ConditionTicket.objects.create(
                asset=asset, condition=flag.condition, ticket=ticket, opened_at=now
            )
    except IntegrityError:  # another runner opened it meanwhile: theirs stands, ours rolled back
        return False
    return True


def _clear_condition_ticket(row_id: int, actor: Any, now: datetime, why: str) -> str:
    """The condition cleared: resolve its ticket if it is open and no person touched it, else
    leave a note on it. Returns what was done."""
    with transaction.atomic():
        row = (
            ConditionTicket.objects.select_for_update()
            .filter(pk=row_id, cleared_at__isnull=True)
            .first()
        )
        if row is None:
            return "none"
        label = Condition(row.condition).label.lower()
        ticket = Ticket.objects.get(pk=row.ticket_id)
        done = "none"
        if ticket.is_open and not _touched_by_a_person(ticket):
            try:
                with transaction.atomic():
                    desk_services.resolve(
                        ticket=ticket,
                        by=actor,
                        resolution_code="fixed",
                        body=f"The condition cleared ({label}: {why}); resolved by Tierline.",
                    )
                done = "resolved"
            except ValidationError as error:  # refused (open child tickets…): say so instead
                why = f"{why}; not resolved: {' '.join(error.messages)}"
        if done == "none" and ticket.is_open:
            desk_services.record_on_ticket(
                ticket_id=ticket.pk,
                by=actor,
                action="condition cleared",
                summary=f"{label}: {why}. Left open: a person works this ticket."
                if _touched_by_a_person(ticket)
                else f"{label}: {why}.",
            )
            done = "noted"
        ConditionTicket.objects.filter(pk=row.pk).update(cleared_at=now)
    return done


def sweep_health(*, now: datetime | None = None) -> dict[str, int]:
    """Evaluate every device on the status board: a condition an administrator chose
    (`ConditionRule.opens_ticket`) that a device newly meets opens one ticket, as the assets
    system user; a condition that cleared resolves its ticket (or notes it, when a person took
    it). Safe to run twice: the open `ConditionTicket` row is the memory. Each device and
    condition is its own transaction; one failing is logged and the sweep goes on."""
    now = now or timezone.now()
    counts = {"opened": 0, "resolved": 0, "noted": 0, "failed": 0}
    enabled = set(
        ConditionRule.objects.filter(opens_ticket=True).values_list("condition", flat=True)
    )
    open_rows = {
        (row.asset_id, row.condition): row.pk
        for row in ConditionTicket.objects.filter(cleared_at__isnull=True)
    }
    if not enabled and not open_rows:
        return counts
    actor = system_user("assets")
    thresholds = health.Thresholds.from_settings()
    met: dict[tuple[int, str], Any] = {}
    watched: set[int] = set()
    for asset, flags in queries.device_health(now=now, thresholds=thresholds):
        watched.add(asset.pk)
        for flag in flags:
            met[(asset.pk, flag.condition)] = flag
            if flag.condition in enabled and (asset.pk, flag.condition) not in open_rows:
                try:
                    counts["opened"] += _open_condition_ticket(asset, flag, actor, now)
                except Exception:
                    counts["failed"] += 1
                    logger.exception("assets-health: opening a ticket for asset %s", asset.pk)
    for key, row_id in open_rows.items():
        if key in met:
            continue
        why = (
            f"checked {now:%Y-%m-%d %H:%M} UTC"
            if key[0] in watched
            else "the device left the status board (retired, disposed or its agent revoked)"
        )
        try:
            done = _clear_condition_ticket(row_id, actor, now, why)
        except Exception:
            counts["failed"] += 1
            logger.exception("assets-health: clearing condition ticket %s", row_id)
            continue
        if done in counts:
            counts[done] += 1
    return counts

"""The server side of the endpoint agent: enrolment tokens, per-device credentials, and
receiving reports. The only code that writes EnrolmentToken, AgentDevice and SystemChange, and
the agent's columns of Asset and its software.

A report is matched to its asset by serial, then by MAC address, then by hostname; no match
creates an asset marked for review. An unchanged report (same hash of its inventory as the
last one) costs one UPDATE of the device's row. A changed one writes exactly what changed
(software installed, removed or upgraded; OS, kernel, hostname, memory, CPU; disks and network
interfaces added, removed or resized) to the asset's change log, one `SystemChange` row each.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from tierline.assets import compliance, software_counts
from tierline.assets.models import (
    AgentDevice,
    Asset,
    AssetType,
    ChangeKind,
    EnrolmentToken,
    InstalledSoftware,
    NetworkAddress,
    Status,
    SystemChange,
)
from tierline.core.history import record
from tierline.core.tokens import digest
from tierline.people.services import system_user

ENROLMENT_PREFIX = "tle_"
DEVICE_PREFIX = "tld_"
ENROLMENT_VALID = timedelta(days=7)

# Serials firmware reports when it has none: never matched on.
PLACEHOLDER_SERIALS = {
    "",
    "0",
    "none",
    "n/a",
    "na",
    "default string",
    "to be filled by o.e.m.",
    "system serial number",
    "not specified",
    "not applicable",
    "0123456789",
    "123456789",
}
# MACs that are not one machine's: loopback, and the all-zero address of virtual links.
PLACEHOLDER_MACS = {"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"}


class ReportRefused(Exception):
    """A report the server will not take; `status` is the HTTP answer, the message says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# --- enrolment -------------------------------------------------------------------------------


@transaction.atomic
def issue_enrolment_token(*, valid_for: timedelta = ENROLMENT_VALID) -> tuple[EnrolmentToken, str]:
    """A one-time enrolment token; the key is returned once and only its digest is kept."""
    key = ENROLMENT_PREFIX + secrets.token_urlsafe(30)
    token = EnrolmentToken.objects.create(
        digest=digest(key), prefix=key[:10], expires_at=timezone.now() + valid_for
    )
    return token, key


@transaction.atomic
def enrol(*, enrolment_key: str) -> tuple[AgentDevice, str]:
    """Swap an unused, unexpired enrolment token for a device credential (shown once)."""
    now = timezone.now()
    used = EnrolmentToken.objects.filter(
        digest=digest(enrolment_key), used_at=None, expires_at__gt=now
    ).update(used_at=now)
    if used != 1:
        raise ReportRefused("This enrolment token is unknown, used or expired.", status=401)
    key = DEVICE_PREFIX + secrets.token_urlsafe(30)
    device = AgentDevice.objects.create(digest=digest(key), prefix=key[:10])
    return device, key


def device_for_key(key: str) -> AgentDevice | None:
    """The enrolled, unrevoked device whose credential this is."""
    return AgentDevice.objects.filter(digest=digest(key), revoked_at=None).first()


# --- reports -------------------------------------------------------------------------------


def inventory_hash(body: dict[str, Any]) -> str:
    """The hash of a report's inventory as sent: the body without its envelope (sequence, time)
    and uptime, keys sorted. The agent sends its lists in a stable order, so the same machine
    hashes the same. Taken of the raw body, so a report whose hash matches the device's last
    (which passed validation) needs no validation of its inventory again."""
    inventory = {
        k: v for k, v in body.items() if k not in ("sequence", "sent_at", "uptime_seconds")
    }
    # A parsed JSON body holds no cycles: the encoder's check for them is a third of its time.
    text = json.dumps(
        inventory, sort_keys=True, default=str, separators=(",", ":"), check_circular=False
    )
    return hashlib.sha256(text.encode()).hexdigest()


def is_unchanged(device: AgentDevice, body: Any, *, body_hash: str = "") -> bool:
    """Whether this raw body carries the same inventory as the device's last accepted report
    (`body_hash`: its `inventory_hash`, when the caller has it already)."""
    return (
        isinstance(body, dict)
        and device.asset_id is not None
        and bool(device.report_hash)
        and device.report_hash == (body_hash or inventory_hash(body))
    )


@dataclass(frozen=True)
class Outcome:
    asset_id: int
    changed: bool
    created: bool
    inventory_hash: str = ""
    installed: int = 0
    removed: int = 0
    upgraded: int = 0


def _claim_sequence(device: AgentDevice, sequence: int, extra: dict[str, Any]) -> None:
    """Take `sequence` for this device, or refuse it as replayed (one conditional UPDATE)."""
    claimed = AgentDevice.objects.filter(
        pk=device.pk, revoked_at=None, last_sequence__lt=sequence
    ).update(last_sequence=sequence, last_seen_at=timezone.now(), **extra)
    if not claimed:
        raise ReportRefused(
            f"Report {sequence} was already received or is older than the last one; "
            "send a higher sequence number.",
            status=409,
        )


def _usable_serial(serial: str) -> str:
    return "" if serial.strip().lower() in PLACEHOLDER_SERIALS else serial.strip()


def _usable_macs(inventory: dict[str, Any]) -> list[str]:
    macs = {nic["mac"].lower() for nic in inventory.get("nics") or [] if nic.get("mac")}
    return sorted(macs - PLACEHOLDER_MACS)


def match_asset(inventory: dict[str, Any]) -> Asset | None:
    """The asset a report is about: by serial, then MAC address, then hostname."""
    serial = _usable_serial(inventory.get("serial") or "")
    if serial:
        found = Asset.objects.filter(serial=serial).order_by("pk").first()
        if found is not None:
            return found
    macs = _usable_macs(inventory)
    if macs:
        found = Asset.objects.filter(macs__mac__in=macs).order_by("pk").distinct().first()
        if found is not None:
            return found
    hostname = (inventory.get("hostname") or "").strip()
    if hostname:
        return Asset.objects.filter(hostname__iexact=hostname).order_by("pk").first()
    return None


def _hardware(inventory: dict[str, Any]) -> dict[str, Any]:
    return {
        "cpu": inventory.get("cpu") or {},
        "memory_bytes": inventory.get("memory_bytes"),
        "disks": inventory.get("disks") or [],
        "nics": inventory.get("nics") or [],
        "kernel": (inventory.get("os") or {}).get("kernel", ""),
        "agent_version": inventory.get("agent_version", ""),
    }


# One change: (kind, item, before, after), as the change log shows it.
Change = tuple[str, str, str, str]


def _apply_software(asset: Asset, software: list[dict[str, Any]]) -> tuple[list[Change], int]:
    """Make the asset's software rows equal the report's. Returns what changed, and how many
    packages the report lists."""
    reported = {row["name"]: row for row in software}
    stored = {
        name: (pk, version)
        for pk, name, version in InstalledSoftware.objects.filter(asset=asset).values_list(
            "pk", "name", "version"
        )
    }
    installed = sorted(name for name in reported if name not in stored)
    removed = sorted(name for name in stored if name not in reported)
    upgraded = sorted(
        name
        for name, row in reported.items()
        if name in stored and stored[name][1] != row.get("version", "")
    )
    if removed:
        InstalledSoftware.objects.filter(pk__in=[stored[n][0] for n in removed]).delete()
    if installed:
        InstalledSoftware.objects.bulk_create(
            [
                InstalledSoftware(
                    asset_id=asset.pk,
                    name=name,
                    version=reported[name].get("version", ""),
                    source=reported[name].get("source", ""),
                )
                for name in installed
            ],
            batch_size=2000,
        )
    if upgraded:
        InstalledSoftware.objects.bulk_update(
            [
                InstalledSoftware(
                    pk=stored[name][0],
                    version=reported[name].get("version", ""),
                    source=reported[name].get("source", ""),
                )
                for name in upgraded
            ],
            ["version", "source"],
            batch_size=500,
        )
    # The estate report's stored install counts move with the rows, in this transaction.
    deltas = software_counts.of_rows((n, reported[n].get("version", "")) for n in installed)
    deltas.update(software_counts.of_rows(((n, stored[n][1]) for n in removed), sign=-1))
    for name in upgraded:
        deltas[(name, stored[name][1])] -= 1
        deltas[(name, reported[name].get("version", ""))] += 1
    software_counts.adjust(deltas)
    changes: list[Change] = [
        (ChangeKind.SOFTWARE_INSTALLED, name, "", reported[name].get("version", ""))
        for name in installed
    ]
    changes += [(ChangeKind.SOFTWARE_REMOVED, name, stored[name][1], "") for name in removed]
    changes += [
        (ChangeKind.SOFTWARE_UPGRADED, name, stored[name][1], reported[name].get("version", ""))
        for name in upgraded
    ]
    return changes, len(reported)


def _size(value: Any) -> str:
    """Bytes as a person reads them (GiB, or MiB under one GiB); "" for none."""
    if not isinstance(value, int) or isinstance(value, bool):
        return ""
    if value >= 2**30:
        return f"{value / 2**30:.1f} GiB".replace(".0 GiB", " GiB")
    return f"{value / 2**20:.0f} MiB"


def _cpu(cpu: Any) -> str:
    if not isinstance(cpu, dict) or not cpu.get("model"):
        return ""
    cores = f", {cpu['cores']} cores" if cpu.get("cores") else ""
    threads = f" ({cpu['logical']} threads)" if cpu.get("logical") else ""
    return f"{cpu['model']}{cores}{threads}"


def _by(rows: Any, key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in rows or [] if isinstance(row, dict) and row.get(key)}


def inventory_changes(asset: Asset, inventory: dict[str, Any]) -> list[Change]:
    """What differs between the asset's stored inventory and a report's, besides software:
    hostname, OS, kernel, memory, CPU, disks (by mount: added, removed, resized; free space is
    not a change) and network interfaces (by name and MAC; addresses are not). A value the
    asset did not have before (empty) is not a change: it is the inventory filling in."""
    hardware = asset.hardware or {}
    os_info = inventory.get("os") or {}
    changes: list[Change] = []
    scalars = [
        (ChangeKind.HOSTNAME, "hostname", asset.hostname, inventory.get("hostname", "")),
        (
            ChangeKind.OS,
            "operating system",
            f"{asset.os_name} {asset.os_version}".strip(),
            f"{os_info.get('name', '')} {os_info.get('version', '')}".strip(),
        ),
        (ChangeKind.KERNEL, "kernel", hardware.get("kernel", ""), os_info.get("kernel", "")),
        (
            ChangeKind.MEMORY,
            "memory",
            _size(hardware.get("memory_bytes")),
            _size(inventory.get("memory_bytes")),
        ),
        (ChangeKind.CPU, "CPU", _cpu(hardware.get("cpu")), _cpu(inventory.get("cpu"))),
    ]
    changes += [(kind, item, old, new) for kind, item, old, new in scalars if old and old != new]
    old_disks, new_disks = _by(hardware.get("disks"), "mount"), _by(inventory.get("disks"), "mount")
    for mount in sorted(new_disks.keys() - old_disks.keys()):
        changes.append(
            (ChangeKind.DISK_ADDED, mount, "", _size(new_disks[mount].get("total_bytes")))
        )
    for mount in sorted(old_disks.keys() - new_disks.keys()):
        changes.append(
            (ChangeKind.DISK_REMOVED, mount, _size(old_disks[mount].get("total_bytes")), "")
        )
    for mount in sorted(old_disks.keys() & new_disks.keys()):
        old, new = old_disks[mount].get("total_bytes"), new_disks[mount].get("total_bytes")
        if old is not None and new is not None and old != new:
            changes.append((ChangeKind.DISK_RESIZED, mount, _size(old), _size(new)))
    old_nics = {(n, r.get("mac", "")) for n, r in _by(hardware.get("nics"), "name").items()}
    new_nics = {(n, r.get("mac", "")) for n, r in _by(inventory.get("nics"), "name").items()}
    for name, mac in sorted(old_nics - new_nics):
        changes.append((ChangeKind.NIC_REMOVED, name, mac, ""))
    for name, mac in sorted(new_nics - old_nics):
        changes.append((ChangeKind.NIC_ADDED, name, "", mac))
    return changes


def _write_changes(asset: Asset, device: AgentDevice, sequence: int, changes: list[Change]) -> None:
    """The change log: one row per change, all seen at the same moment."""
    now = timezone.now()
    SystemChange.objects.bulk_create(
        [
            SystemChange(
                asset_id=asset.pk,
                device_id=device.pk,
                sequence=sequence,
                seen_at=now,
                kind=kind,
                item=item[:200],
                before=before[:255],
                after=after[:255],
            )
            for kind, item, before, after in changes
        ],
        batch_size=1000,
    )


def _apply_macs(asset: Asset, macs: list[str]) -> None:
    stored = set(NetworkAddress.objects.filter(asset=asset).values_list("mac", flat=True))
    gone = stored - set(macs)
    if gone:
        NetworkAddress.objects.filter(asset=asset, mac__in=gone).delete()
    NetworkAddress.objects.bulk_create(
        [NetworkAddress(asset=asset, mac=mac) for mac in macs if mac not in stored]
    )


@transaction.atomic
def receive_unchanged(*, device: AgentDevice, sequence: int) -> Outcome:
    """A report whose inventory hash matches the last one: one UPDATE (sequence, last seen)."""
    _claim_sequence(device, sequence, {})
    return Outcome(
        asset_id=device.asset_id or 0,
        changed=False,
        created=False,
        inventory_hash=device.report_hash,
    )


@transaction.atomic
def receive_report(*, device: AgentDevice, report: dict[str, Any], raw_hash: str) -> Outcome:
    """Take one validated report (api/serializers.ReportSerializer) from `device`; `raw_hash`
    is `inventory_hash` of the body as sent."""
    sequence = report["sequence"]
    inventory = {k: v for k, v in report.items() if k not in ("sequence", "sent_at")}
    new_hash = raw_hash
    _claim_sequence(device, sequence, {"report_hash": new_hash})
    # The claim locked the device's row: a report that waited on it sees the asset the one
    # before it bound, rather than matching (or creating) one again.
    device.asset_id = AgentDevice.objects.values_list("asset_id", flat=True).get(pk=device.pk)
    created = False
    asset = None
    if device.asset_id is not None:
        asset = Asset.objects.select_for_update().filter(pk=device.asset_id).first()
    if asset is None:
        asset = match_asset(inventory)
        if asset is None:
            asset = Asset.objects.create(
                hostname=inventory["hostname"],
                serial=_usable_serial(inventory.get("serial") or ""),
                asset_type=AssetType.objects.filter(reported_by_agent=True).first(),
                status=Status.DEPLOYED,
                needs_review=True,
            )
            created = True
            record(
                asset,
                system_user("assets"),
                "created",
                summary="by an agent report that matched no asset; review it",
            )
        AgentDevice.objects.filter(pk=device.pk).update(asset=asset)
        device.asset = asset
    first = asset.inventory_at is None
    hardware_changes = [] if first else inventory_changes(asset, inventory)

    os_info = inventory.get("os") or {}
    asset.hostname = inventory["hostname"]
    asset.os_name = os_info.get("name", "")
    asset.os_version = os_info.get("version", "")
    asset.hardware = _hardware(inventory)
    asset.accounts = inventory.get("accounts") or []
    asset.security = inventory.get("security") or {}
    asset.uptime_seconds = inventory.get("uptime_seconds")
    asset.inventory_at = timezone.now()
    serial = _usable_serial(inventory.get("serial") or "")
    fields = [
        "hostname",
        "os_name",
        "os_version",
        "hardware",
        "accounts",
        "security",
        "uptime_seconds",
        "inventory_at",
    ]
    for name in ("make", "model"):
        if inventory.get(name) and not getattr(asset, name):
            setattr(asset, name, inventory[name])
            fields.append(name)
    if serial and not asset.serial:
        asset.serial = serial
        fields.append("serial")
    asset.save(update_fields=fields)
    _apply_macs(asset, _usable_macs(inventory))
    software_changes, packages = _apply_software(asset, inventory.get("software") or [])
    if first:
        # The first inventory is one entry, not one per package: nothing changed, it began.
        if packages:
            record(
                asset, system_user("assets"), "software inventoried", summary=f"{packages} packages"
            )
        log = [(ChangeKind.INVENTORIED, "", "", f"{packages} packages")]
    else:
        log = hardware_changes + software_changes
    _write_changes(asset, device, sequence, log)
    counts = dict.fromkeys(ChangeKind, 0)
    for kind, *_rest in software_changes:
        counts[kind] += 1
    installed = counts[ChangeKind.SOFTWARE_INSTALLED]
    removed = counts[ChangeKind.SOFTWARE_REMOVED]
    upgraded = counts[ChangeKind.SOFTWARE_UPGRADED]
    # Security checks, on the inventory just stored (assets.compliance).
    compliance.evaluate_asset(
        asset=asset, software=[row["name"] for row in inventory.get("software") or []]
    )
    return Outcome(
        asset_id=asset.pk,
        changed=True,
        created=created,
        inventory_hash=new_hash,
        installed=installed,
        removed=removed,
        upgraded=upgraded,
    )

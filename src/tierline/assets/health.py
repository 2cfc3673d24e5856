"""A device's health, from the asset's latest inventory, its agent's last report and its
failed security checks: the flags the status board shows and the `assets-health` job acts
on. Pure functions, no queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from tierline.assets.models import Condition


@dataclass(frozen=True)
class Thresholds:
    disk_free_percent: float
    offline_hours: int
    pending_updates: int

    @classmethod
    def from_settings(cls) -> Thresholds:
        conf = settings.TIERLINE
        return cls(
            disk_free_percent=float(conf.get("ASSET_DISK_FREE_PERCENT", 10)),
            offline_hours=int(conf.get("ASSET_OFFLINE_HOURS", 72)),
            pending_updates=max(1, int(conf.get("ASSET_PENDING_UPDATES", 1))),
        )


@dataclass(frozen=True)
class Flag:
    condition: str
    detail: str

    @property
    def label(self) -> str:
        return str(Condition(self.condition).label)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def low_disks(hardware: Any, percent: float) -> list[str]:
    """ "/ 4% free" for each disk with less than `percent` of its space free."""
    found = []
    disks = hardware.get("disks") if isinstance(hardware, dict) else None
    for disk in disks if isinstance(disks, list) else []:
        if not isinstance(disk, dict):
            continue
        total, free = _int(disk.get("total_bytes")), _int(disk.get("free_bytes"))
        if not total or free is None:
            continue
        share = 100 * free / total
        if share < percent:
            found.append(f"{disk.get('mount') or disk.get('device') or 'disk'} {share:.0f}% free")
    return found


def flags_of(
    *,
    hardware: Any,
    security: Any,
    last_seen: datetime | None,
    now: datetime,
    thresholds: Thresholds,
    failed_checks: Sequence[str] = (),
) -> list[Flag]:
    """The conditions a device meets now. A device never seen is not "offline": it has no
    agent report to be late. `failed_checks`: the names of the security policies the device
    fails (`assets.compliance`'s stored results; "unknown" is not a failure)."""
    flags: list[Flag] = []
    disks = low_disks(hardware, thresholds.disk_free_percent)
    if disks:
        flags.append(Flag(Condition.DISK_FULL, ", ".join(disks)))
    if last_seen is not None and now - last_seen > timedelta(hours=thresholds.offline_hours):
        hours = int((now - last_seen).total_seconds() // 3600)
        flags.append(Flag(Condition.OFFLINE, f"no report for {hours} h"))
    security = security if isinstance(security, dict) else {}
    pending = _int(security.get("pending_updates"))
    if pending is not None and pending >= thresholds.pending_updates:
        flags.append(Flag(Condition.PENDING_UPDATES, f"{pending} pending"))
    if failed_checks:
        flags.append(Flag(Condition.FAILED_CHECKS, "failed: " + ", ".join(failed_checks)))
    return flags

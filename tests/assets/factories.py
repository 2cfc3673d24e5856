"""Assets, enrolled devices and reports for the tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from tierline.assets import agent, compliance
from tierline.assets.models import Asset


def asset(**values: Any) -> Asset:
    return Asset.objects.create(**values)


def enrolled_device() -> tuple[Any, str]:
    _token, enrolment_key = agent.issue_enrolment_token()
    return agent.enrol(enrolment_key=enrolment_key)


def report(sequence: int = 1, *, sent_at: datetime | None = None, **values: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sequence": sequence,
        "sent_at": (sent_at or timezone.now()).isoformat(),
        "agent_version": "0.1.0",
        "hostname": "ws-0042",
        "serial": "SN-12345",
        "make": "Lenovo",
        "model": "ThinkPad T14",
        "os": {"name": "Debian GNU/Linux", "version": "12", "kernel": "6.1.0"},
        "uptime_seconds": 3600,
        "cpu": {"model": "Intel Core i5", "cores": 4, "logical": 8},
        "memory_bytes": 16 * 2**30,
        "disks": [
            {
                "mount": "/",
                "device": "/dev/nvme0n1p2",
                "fs": "ext4",
                "total_bytes": 500 * 2**30,
                "free_bytes": 120 * 2**30,
            }
        ],
        "nics": [{"name": "eth0", "mac": "00:11:22:33:44:55", "addresses": ["10.0.0.42"]}],
        "software": [
            {"name": "bash", "version": "5.2.15-2", "source": "dpkg"},
            {"name": "curl", "version": "7.88.1-10", "source": "dpkg"},
            {"name": "openssl", "version": "3.0.11-1", "source": "dpkg"},
        ],
        "accounts": [{"name": "root", "admin": True}, {"name": "erin", "admin": False}],
        "security": {"firewall": "on", "disk_encryption": "off", "pending_updates": 3},
    }
    body.update(values)
    return body


def device_client(api_client_class: Any, key: str) -> Any:
    client = api_client_class()
    client.credentials(HTTP_AUTHORIZATION=f"Device {key}")
    return client


def device(
    *,
    tag: str,
    free_gib: int = 100,
    total_gib: int = 500,
    seen_hours_ago: float | None = 1,
    security: dict[str, Any] | None = None,
    **values: Any,
) -> Asset:
    """An asset with an enrolled agent that last reported `seen_hours_ago` (None: never), its
    security checks evaluated as a report would (`assets.compliance`)."""
    import hashlib
    from datetime import timedelta

    from tierline.assets.models import AgentDevice

    found = Asset.objects.create(
        tag=tag,
        status=values.pop("status", "deployed"),
        hardware={
            "disks": [
                {"mount": "/", "total_bytes": total_gib * 2**30, "free_bytes": free_gib * 2**30}
            ]
        },
        security=security if security is not None else {"firewall": "on", "pending_updates": 0},
        inventory_at=values.pop("inventory_at", timezone.now()),
        **values,
    )
    AgentDevice.objects.create(
        digest=hashlib.sha256(tag.encode()).hexdigest(),
        prefix=tag[:12],
        asset=found,
        last_seen_at=None
        if seen_hours_ago is None
        else timezone.now() - timedelta(hours=seen_hours_ago),
    )
    compliance.evaluate_asset(asset=found)
    return found


def firewall_policy() -> Any:
    """The "Firewall on" security policy, on (the migration seeds it; a transactional test
    elsewhere may have emptied the table)."""
    from tierline.assets.models import SecurityPolicy

    found, _created = SecurityPolicy.objects.update_or_create(
        name="Firewall on", defaults={"kind": "firewall", "enabled": True}
    )
    return found


def software(*, asset: Asset, name: str, version: str = "") -> Any:
    """One installed package, counted as the agent counts it (`assets.software_counts`)."""
    from tierline.assets import software_counts
    from tierline.assets.models import InstalledSoftware

    row = InstalledSoftware.objects.create(asset=asset, name=name, version=version)
    software_counts.adjust({(name, version): 1})
    return row


def system_change(
    asset: Asset,
    kind: str,
    item: str = "",
    *,
    seen_at: datetime | None = None,
    before: str = "",
    after: str = "",
) -> Any:
    """A row of the change log as `assets.agent` writes it after a changed report."""
    from tierline.assets.models import SystemChange

    return SystemChange.objects.create(
        asset=asset,
        kind=kind,
        item=item,
        before=before,
        after=after,
        seen_at=seen_at or timezone.now(),
    )

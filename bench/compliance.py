"""Security checks benchmark: what evaluating the policies adds to a changed agent report, and
what the `assets-compliance` job and the report page cost, for N devices with about 1,500
installed packages each, every policy on (20 banned patterns, an approved-accounts list).

    python bench/compliance.py --devices 300                          SQLite in a temporary dir
    python bench/compliance.py --devices 2000 --database-url postgresql://postgres@127.0.0.1:5432/postgres

The devices are written directly (bulk), not through the report API (bench/agent.py measures
that, now with the evaluation in it). Prints one table: per device `evaluate_asset` (the
report hook: the policies loaded, one device's results written; first time and again, when
nothing changed), `evaluate_all` per device (the job after a policy change), the snapshot,
and the compliance page and its CSV for the whole estate; median and p95 ms, the median CPU ms of this process (the
worker's share, less distorted by a busy machine), N.
Not a test: nothing here asserts, and the suite never runs it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_parser, finish_args, migrated_database, percentile  # noqa: E402

PACKAGES = 1500


def parse_args() -> argparse.Namespace:
    p = bench_parser(__doc__)
    p.add_argument("--devices", type=int, default=300, help="devices (default 300)")
    args = p.parse_args()
    if args.devices < 10:
        p.error("--devices must be at least 10")
    return finish_args(args)


def build(devices: int, rng: random.Random) -> list:
    from django.utils import timezone

    from tierline.assets.models import (
        AgentDevice,
        ApprovedAccount,
        Asset,
        AssetType,
        InstalledSoftware,
        SecurityPolicy,
    )

    pool = [f"pkg{i:05d}" for i in range(4000)]
    kind = AssetType.objects.filter(reported_by_agent=True).first()
    now = timezone.now()
    assets = Asset.objects.bulk_create(
        [
            Asset(
                hostname=f"ws-{n:05d}",
                asset_type=kind,
                status="deployed",
                os_name="Ubuntu",
                os_version=rng.choice(["20.04", "22.04", "24.04"]),
                accounts=[{"name": "root", "admin": True}, {"name": f"u{n}", "admin": True}],
                security={
                    "firewall": rng.choice(["on", "off", "unknown"]),
                    "disk_encryption": "on",
                    "pending_updates": rng.randint(0, 40),
                    "last_update_at": now.isoformat(),
                },
                inventory_at=now,
            )
            for n in range(devices)
        ],
        batch_size=500,
    )
    AgentDevice.objects.bulk_create(
        [AgentDevice(digest=f"{a.pk:064d}", prefix="bench", asset=a) for a in assets]
    )
    for asset in assets:
        InstalledSoftware.objects.bulk_create(
            [
                InstalledSoftware(asset=asset, name=name, version="1.0", source="dpkg")
                for name in rng.sample(pool, PACKAGES)
            ],
            batch_size=1500,
        )
    SecurityPolicy.objects.update(enabled=True)
    SecurityPolicy.objects.filter(kind="banned_software").update(
        banned="\n".join(f"pkg0{i:02d}*" for i in range(20))
    )
    ApprovedAccount.objects.bulk_create([ApprovedAccount(name=n) for n in ("root", "u1*")])
    return assets


def main() -> None:
    args = parse_args()
    with migrated_database(args) as database:
        from django.contrib.auth import get_user_model
        from django.test import Client

        from tierline.assets import compliance
        from tierline.assets.models import InstalledSoftware

        rng = random.Random(args.seed)
        assets = build(args.devices, rng)
        print(f"{args.devices} devices, {PACKAGES} packages each, 8 policies on, {database}")
        rows = []

        def per_call(name: str, calls) -> None:
            times, cpu = [], []
            for call in calls:
                t0, c0 = time.perf_counter(), time.process_time()
                call()
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            rows.append(
                (
                    name,
                    statistics.median(times),
                    percentile(times, 0.95),
                    statistics.median(cpu),
                    len(times),
                )
            )

        sample = assets[: min(200, len(assets))]
        # As the report hook calls it: with the package names the report just carried.
        names = {
            a.pk: list(InstalledSoftware.objects.filter(asset=a).values_list("name", flat=True))
            for a in sample
        }
        per_call(
            "evaluate_asset, first",
            [lambda a=a: compliance.evaluate_asset(asset=a, software=names[a.pk]) for a in sample],
        )
        per_call(
            "evaluate_asset, again",
            [lambda a=a: compliance.evaluate_asset(asset=a, software=names[a.pk]) for a in sample],
        )
        t0, c0 = time.perf_counter(), time.process_time()
        compliance.evaluate_all()
        whole = (time.perf_counter() - t0) * 1000 / len(assets)
        cpu = (time.process_time() - c0) * 1000 / len(assets)
        rows.append(("evaluate_all / device", whole, whole, cpu, len(assets)))
        per_call("take_snapshot", [compliance.take_snapshot for _ in range(5)])
        staff = get_user_model().objects.create(
            username="bench-lead", is_staff=True, is_superuser=True
        )
        client = Client()
        client.force_login(staff)
        per_call("compliance page", [lambda: client.get("/assets/compliance/") for _ in range(5)])
        per_call(
            "compliance CSV",
            [
                lambda: b"".join(client.get("/assets/compliance/export.csv").streaming_content)
                for _ in range(3)
            ],
        )
        print(f"{'':24} {'median ms':>10} {'p95 ms':>10} {'CPU ms':>8} {'N':>6}")
        for name, median, p95, cpu, n in rows:
            print(f"{name:24} {median:10.2f} {p95:10.2f} {cpu:8.2f} {n:6d}")


if __name__ == "__main__":
    main()

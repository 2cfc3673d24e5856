"""Agent report benchmark: an estate of N devices (default 10,000) with realistic reports (1,500
installed packages each, drawn from a pool of 4,000), reports sent through the whole stack
(Django's test client -> URL -> device sign-in -> validation -> service -> database), in one
process: one worker on one core.

    python bench/agent.py --devices 300 --first 50 --timed 100       SQLite, a quick pass
    python bench/agent.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
                                          PostgreSQL, 10,000 devices: a bench database, dropped after

Seeding: `--first` devices (default 500) are enrolled through `agent.enrol` and send their first
report through the real path (timed: "first report"). The rest of the estate is bulk-created in
the setup, as that path would leave it: an enrolled device with its credential's digest, its
asset with the inventory columns and MAC, the inventory hash of its report, and its 1,500
software rows (COPY on PostgreSQL, bulk_create on SQLite): 15 million rows at 10,000 devices.

Then `--timed` devices (default 2,000) drawn from the whole estate send, in turn:
- "same, sent whole": the same inventory as a whole report (parsed, hashed, one UPDATE);
- "one package added": one package more (validated, the inventory rewritten, one change);
- "unchanged, by hash": `/agent/report/unchanged` with the hash the last answer carried.

Printed per kind: N, sustained reports/s by the wall clock and per CPU-second of this process
(the web worker's share, without the database server's; a busy machine distorts it less), median
and p95 handling time in ms; the machine's load average before and after. The target (issue 12):
10,000 devices every 15 minutes with 10x headroom on one core, >= 110 reports/s, for the steady
state (mostly unchanged reports). Not a test: nothing here asserts, and the suite never runs it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_parser, finish_args, migrated_database, percentile  # noqa: E402

PACKAGES = 1500
POOL = 4000
REPORT = "/api/v1/agent/report"
UNCHANGED = "/api/v1/agent/report/unchanged"


def parse_args() -> argparse.Namespace:
    p = bench_parser(__doc__)
    p.add_argument("--devices", type=int, default=10_000, help="the estate (default 10000)")
    p.add_argument(
        "--first", type=int, default=500, help="first reports through the real path (500)"
    )
    p.add_argument("--timed", type=int, default=2000, help="devices timed per round (2000)")
    p.add_argument("--profile", help="a pyinstrument profile of the rounds: FILE.html, else text")
    args = p.parse_args()
    if args.devices < 10 or not 1 <= args.first <= args.devices:
        p.error("--devices must be at least 10, --first between 1 and --devices")
    args.timed = min(args.timed, args.devices)
    return finish_args(args)


def catalogue(seed: int) -> list[tuple[str, str]]:
    """The pool of package names and versions devices draw their 1,500 from."""
    rng = random.Random(seed)
    stems = ["lib", "python3-", "fonts-", "gir1.2-", "node-", "perl-", "x11-", "gnome-", ""]
    return [
        (
            f"{rng.choice(stems)}pkg{i:05d}",
            f"{rng.randint(0, 9)}.{rng.randint(0, 40)}-{rng.randint(1, 9)}",
        )
        for i in range(POOL)
    ]


def report(n: int, sequence: int, pool: list[tuple[str, str]], seed: int) -> dict:
    """Device n's report: the same inventory every time it is asked for (its own seed), a new
    envelope and uptime. Made one at a time: 10,000 of them in memory would be gigabytes."""
    from django.utils import timezone

    rng = random.Random(seed * 1_000_003 + n)
    chosen = sorted(rng.sample(pool, PACKAGES))
    return {
        "sequence": sequence,
        "sent_at": timezone.now().isoformat(),
        "agent_version": "0.1.0",
        "hostname": f"ws-{n:05d}",
        "serial": f"SN{n:08d}",
        "make": "Lenovo",
        "model": "ThinkPad T14 Gen 3",
        "os": {"name": "Debian GNU/Linux", "version": "12", "kernel": "6.1.0-18-amd64"},
        "uptime_seconds": 3600 * sequence,
        "cpu": {"model": "12th Gen Intel(R) Core(TM) i5-1245U", "cores": 10, "logical": 12},
        "memory_bytes": 16 * 2**30,
        "disks": [
            {
                "mount": "/",
                "device": "/dev/nvme0n1p2",
                "fs": "ext4",
                "total_bytes": 500 * 2**30,
                "free_bytes": 120 * 2**30,
            },
            {
                "mount": "/boot/efi",
                "device": "/dev/nvme0n1p1",
                "fs": "vfat",
                "total_bytes": 2**29,
                "free_bytes": 2**28,
            },
        ],
        "nics": [
            {
                "name": "wlp0s20f3",
                "mac": _mac(n),
                "addresses": [f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"],
            },
        ],
        "software": [
            {"name": name, "version": version, "source": "dpkg"} for name, version in chosen
        ],
        "accounts": [{"name": "root", "admin": True}, {"name": f"user{n}", "admin": True}],
        "security": {
            "firewall": "on",
            "disk_encryption": "on",
            "pending_updates": rng.randint(0, 40),
        },
    }


def _mac(n: int) -> str:
    return f"02:00:{n >> 24 & 255:02x}:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}"


def _key(n: int) -> str:
    return f"tld_bench-device-{n:08d}-" + hashlib.sha256(str(n).encode()).hexdigest()[:24]


def seed_estate(first: int, devices: int, pool: list[tuple[str, str]], seed: int) -> list[str]:
    """Enrol the first `first` devices for real; bulk-create devices `first`..`devices` as a
    first report would have left them. Returns every device's credential."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tierline.assets import agent
    from tierline.assets.models import (
        AgentDevice,
        Asset,
        AssetType,
        InstalledSoftware,
        NetworkAddress,
        Status,
    )
    from tierline.core.tokens import digest

    keys = []
    for _ in range(first):
        _token, enrolment = agent.issue_enrolment_token()
        keys.append(agent.enrol(enrolment_key=enrolment)[1])
    kind = AssetType.objects.filter(reported_by_agent=True).first()
    now = timezone.now()
    batch = 500
    for start in range(first, devices, batch):
        numbers = range(start, min(start + batch, devices))
        bodies = {n: report(n, 1, pool, seed) for n in numbers}
        with transaction.atomic():
            assets = Asset.objects.bulk_create(
                [
                    Asset(
                        hostname=body["hostname"],
                        serial=body["serial"],
                        make=body["make"],
                        model=body["model"],
                        asset_type=kind,
                        status=Status.DEPLOYED,
                        os_name=body["os"]["name"],
                        os_version=body["os"]["version"],
                        hardware={
                            "cpu": body["cpu"],
                            "memory_bytes": body["memory_bytes"],
                            "disks": body["disks"],
                            "nics": body["nics"],
                            "kernel": body["os"]["kernel"],
                            "agent_version": body["agent_version"],
                        },
                        accounts=body["accounts"],
                        security=body["security"],
                        uptime_seconds=body["uptime_seconds"],
                        inventory_at=now,
                        needs_review=True,
                    )
                    for body in bodies.values()
                ]
            )
            by_number = dict(zip(numbers, assets, strict=True))
            for n in numbers:
                keys.append(_key(n))
            AgentDevice.objects.bulk_create(
                [
                    AgentDevice(
                        digest=digest(_key(n)),
                        prefix=_key(n)[:10],
                        asset=by_number[n],
                        last_sequence=1,
                        last_seen_at=now,
                        report_hash=agent.inventory_hash(bodies[n]),
                    )
                    for n in numbers
                ]
            )
            NetworkAddress.objects.bulk_create(
                [NetworkAddress(asset=by_number[n], mac=_mac(n)) for n in numbers]
            )
            rows = (
                (by_number[n].pk, row["name"], row["version"], row["source"])
                for n in numbers
                for row in bodies[n]["software"]
            )
            if connection.vendor == "postgresql":
                with (
                    connection.cursor() as cursor,
                    cursor.cursor.copy(
                        "COPY assets_installedsoftware (asset_id, name, version, source) FROM STDIN"
                    ) as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                InstalledSoftware.objects.bulk_create(
                    [
                        InstalledSoftware(asset_id=a, name=name, version=v, source=s)
                        for a, name, v, s in rows
                    ],
                    batch_size=2000,
                )
        if numbers[-1] + 1 == devices or (numbers[-1] + 1) % 2000 == 0:
            print(f"seeded {numbers[-1] + 1} devices", file=sys.stderr, flush=True)
    return keys


class Round:
    """One kind of report, timed request by request."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.times: list[float] = []
        self.wall = 0.0
        self.cpu = 0.0

    def post(self, client, url: str, key: str, body: bytes) -> dict:
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.post(
            url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Device {key}"
        )
        elapsed = time.perf_counter() - started
        self.cpu += time.process_time() - cpu_started
        self.wall += elapsed
        self.times.append(elapsed * 1000)
        if response.status_code != 200:
            raise SystemExit(f"report refused: {response.status_code} {response.content[:300]!r}")
        return response.json()

    def line(self) -> str:
        n = len(self.times)
        return (
            f"{self.name:20} {n:6} {n / self.wall:10.1f} {n / self.cpu:10.1f} "
            f"{statistics.median(self.times):10.2f} {percentile(self.times, 0.95):8.2f}"
        )


def bodies(
    numbers: list[int], sequence: int, pool: list[tuple[str, str]], seed: int, **change
) -> Iterator[tuple[int, bytes]]:
    for n in numbers:
        body = report(n, sequence, pool, seed)
        if change.get("add"):
            body["software"].append(
                {"name": f"zz-bench-extra-{sequence}", "version": "1.0-1", "source": "dpkg"}
            )
        yield n, json.dumps(body).encode()


def main() -> None:
    args = parse_args()
    os.environ["TIERLINE_AGENT_RATE"] = "off"
    load_before = os.getloadavg()
    with migrated_database(args) as database:
        from django.test import Client

        from tierline.assets.models import InstalledSoftware

        pool = catalogue(args.seed)
        started = time.perf_counter()
        keys = seed_estate(args.first, args.devices, pool, args.seed)
        seeded = time.perf_counter() - started
        client = Client()
        profiler = None
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler()
            profiler.start()

        first = Round("first report")
        for n, body in bodies(list(range(args.first)), 1, pool, args.seed):
            first.post(client, REPORT, keys[n], body)
        rows = InstalledSoftware.objects.count()
        timed = sorted(random.Random(args.seed).sample(range(args.devices), args.timed))
        whole = Round("same, sent whole")
        for n, body in bodies(timed, 2, pool, args.seed):
            whole.post(client, REPORT, keys[n], body)
        added = Round("one package added")
        hashes = {}
        for n, body in bodies(timed, 3, pool, args.seed, add=True):
            hashes[n] = added.post(client, REPORT, keys[n], body)["inventory_hash"]
        unchanged = Round("unchanged, by hash")
        for n in timed:
            from django.utils import timezone

            body = {
                "sequence": 4,
                "sent_at": timezone.now().isoformat(),
                "inventory_hash": hashes[n],
                "uptime_seconds": 4 * 3600,
            }
            unchanged.post(client, UNCHANGED, keys[n], json.dumps(body).encode())
        if profiler is not None:
            profiler.stop()
            out = Path(args.profile)
            out.write_text(
                profiler.output_html() if out.suffix == ".html" else profiler.output_text()
            )
        load_after = os.getloadavg()
        print(
            f"{args.devices} devices ({args.first} first reports through the real path, the rest "
            f"bulk-created in {seeded:.0f} s), {rows:,} software rows, {PACKAGES} packages a "
            f"report ({len(next(bodies([0], 1, pool, args.seed))[1]) // 1024} KiB), {database}"
        )
        print(
            f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
            f"({os.cpu_count()} cores)"
        )
        print(
            f"{'':20} {'N':>6} {'reports/s':>10} {'per CPU-s':>10} {'median ms':>10} {'p95 ms':>8}"
        )
        for kind in (first, whole, added, unchanged):
            print(kind.line())


if __name__ == "__main__":
    main()

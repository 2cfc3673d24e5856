"""Agent report benchmark: N devices send realistic reports (about 1,500 installed packages each)
through the whole stack (Django's test client -> URL -> device sign-in -> validation -> service
-> database), in one process: one worker on one core.

    python bench/agent.py --devices 200                       SQLite in a temporary dir
    python bench/agent.py --devices 10000 --database-url postgresql://postgres@127.0.0.1:5432/postgres
                                                              PostgreSQL: a bench database, dropped after

Prints one table: for first reports (asset matched or created, 1,500 software rows written),
the same inventory sent whole again (parsed, hashed, one UPDATE) and an unchanged report by
hash (`/agent/report/unchanged`: a small body, one UPDATE), the sustained reports/s
by the wall clock and per CPU-second of the worker process, and the median and p95 handling
time in ms. The target (issue 12): 10,000 devices every
15 minutes with 10x headroom on one core, i.e. >= 110 reports/s for unchanged reports.
Not a test: nothing here asserts, and the suite never runs it.
"""

from __future__ import annotations

import argparse
import json
import os
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
    p.add_argument("--devices", type=int, default=10_000, help="devices (default 10000)")
    args = p.parse_args()
    if args.devices < 10:
        p.error("--devices must be at least 10")
    return finish_args(args)


def catalogue(rng: random.Random) -> list[tuple[str, str]]:
    """A pool of package names and versions that devices draw their 1,500 from."""
    stems = ["lib", "python3-", "fonts-", "gir1.2-", "node-", "perl-", "x11-", "gnome-", ""]
    return [
        (
            f"{rng.choice(stems)}pkg{i:05d}",
            f"{rng.randint(0, 9)}.{rng.randint(0, 40)}-{rng.randint(1, 9)}",
        )
        for i in range(4000)
    ]


def report(n: int, sequence: int, pool: list[tuple[str, str]], rng: random.Random) -> dict:
    from django.utils import timezone

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
        "uptime_seconds": rng.randint(60, 10**6),
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
                "mac": f"02:00:{n >> 24 & 255:02x}:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}",
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


REPORT = "/api/v1/agent/report"
UNCHANGED = "/api/v1/agent/report/unchanged"


def timed_round(
    client, url: str, keys: list[str], bodies: list[bytes]
) -> tuple[list[float], float, float, list[dict]]:
    times, answers = [], []
    started, cpu_started = time.perf_counter(), time.process_time()
    for key, body in zip(keys, bodies, strict=True):
        t0 = time.perf_counter()
        response = client.post(
            url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Device {key}"
        )
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"report refused: {response.status_code} {response.content[:300]!r}")
        answers.append(response.json())
    return times, time.perf_counter() - started, time.process_time() - cpu_started, answers


def main() -> None:
    args = parse_args()
    os.environ["TIERLINE_AGENT_RATE"] = "off"
    with migrated_database(args) as database:
        from django.test import Client

        from tierline.assets import agent

        rng = random.Random(args.seed)
        pool = catalogue(rng)
        keys = []
        for _ in range(args.devices):
            _token, enrolment = agent.issue_enrolment_token()
            keys.append(agent.enrol(enrolment_key=enrolment)[1])
        inventories = [report(n, 1, pool, rng) for n in range(args.devices)]
        first = [json.dumps(body).encode() for body in inventories]
        again = [
            json.dumps(
                {**body, "sequence": 2, "uptime_seconds": body["uptime_seconds"] + 900}
            ).encode()
            for body in inventories
        ]
        print(
            f"{args.devices} devices, {PACKAGES} packages each, "
            f"{len(first[0]) // 1024} KiB a report, {database}"
        )
        client = Client()
        rows = []

        def timed(name: str, url: str, bodies: list[bytes]) -> list[dict]:
            times, elapsed, cpu, answers = timed_round(client, url, keys, bodies)
            rows.append(
                (
                    name,
                    len(times) / elapsed,
                    len(times) / cpu,
                    statistics.median(times),
                    percentile(times, 0.95),
                )
            )
            return answers

        answers = timed("first report", REPORT, first)
        timed("same, sent whole", REPORT, again)
        said = [
            json.dumps(
                {
                    "sequence": 3,
                    "sent_at": inventories[n]["sent_at"],
                    "inventory_hash": answer["inventory_hash"],
                    "uptime_seconds": 1800,
                }
            ).encode()
            for n, answer in enumerate(answers)
        ]
        timed("unchanged, by hash", UNCHANGED, said)
        # reports/s: by the wall clock; per CPU-s: by this process's CPU time (the web worker's
        # share, without the database server's), which a busy machine distorts less.
        print(f"{'':18} {'reports/s':>10} {'per CPU-s':>10} {'median ms':>10} {'p95 ms':>8}")
        for name, rate, per_cpu, median, p95 in rows:
            print(f"{name:18} {rate:10.1f} {per_cpu:10.1f} {median:10.2f} {p95:8.2f}")


if __name__ == "__main__":
    main()

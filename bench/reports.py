"""Estate report benchmark: N devices (default 10,000) with P installed packages each (default
1,500, drawn from a pool of 4,000 names), bulk-loaded, then the estate report is counted and
rendered as the help desk asks for it, in one process.

    python bench/reports.py --devices 2000 --packages 200     SQLite in a temporary dir
    python bench/reports.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
                                                              PostgreSQL: a bench database, dropped after

Prints one table: for each request (the counting alone, the whole estate and filtered; the
page, the CSV and the PDF through Django's test client), the median and p95 in ms over
--runs runs after one warm-up, and the queries it took. Not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_parser, finish_args, migrated_database, percentile  # noqa: E402

BATCH = 5000


def parse_args() -> argparse.Namespace:
    p = bench_parser(__doc__)
    p.add_argument("--devices", type=int, default=10_000, help="devices (default 10000)")
    p.add_argument("--packages", type=int, default=1500, help="packages each (default 1500)")
    p.add_argument("--runs", type=int, default=10, help="timed runs per request (default 10)")
    args = p.parse_args()
    if args.devices < 10 or not 1 <= args.packages <= 4000 or args.runs < 1:
        p.error("--devices >= 10, 1 <= --packages <= 4000, --runs >= 1")
    return finish_args(args)


def load(devices: int, packages: int, rng: random.Random) -> dict:
    import hashlib

    from django.utils import timezone

    from tierline.assets.models import AgentDevice, Asset, AssetType, InstalledSoftware, Status
    from tierline.people.models import Location

    types = list(AssetType.objects.all()) or [AssetType.objects.create(name="Laptop")]
    locations = [Location.objects.create(name=f"Site {n}") for n in range(8)]
    oses = [("Debian GNU/Linux", "12"), ("Debian GNU/Linux", "11"), ("Ubuntu", "24.04"),
            ("Windows", "11"), ("Windows", "10"), ("macOS", "15.1")]  # fmt: skip
    statuses = [Status.DEPLOYED] * 8 + [Status.IN_STOCK, Status.IN_REPAIR, Status.RETIRED]
    today = date.today()
    now = timezone.now()
    assets = []
    for n in range(devices):
        os_name, os_version = rng.choice(oses)
        bought = today - timedelta(days=rng.randint(0, 8 * 365))
        assets.append(
            Asset(
                tag=f"BENCH-{n:06d}",
                hostname=f"ws-{n:06d}",
                asset_type=rng.choice(types),
                location=rng.choice(locations),
                status=rng.choice(statuses),
                purchase_date=bought if rng.random() > 0.05 else None,
                warranty_end=bought + timedelta(days=3 * 365) if rng.random() > 0.1 else None,
                os_name=os_name,
                os_version=os_version,
            )
        )
    Asset.objects.bulk_create(assets, batch_size=BATCH)
    assets = list(Asset.objects.order_by("pk"))
    AgentDevice.objects.bulk_create(
        [
            AgentDevice(
                digest=hashlib.sha256(a.tag.encode()).hexdigest(),
                prefix=a.tag[:12],
                asset=a,
                last_seen_at=now - timedelta(hours=rng.expovariate(1 / 48)),
            )
            for a in assets
        ],
        batch_size=BATCH,
    )
    pool = [f"pkg{i:05d}" for i in range(4000)]
    rows: list[InstalledSoftware] = []
    for a in assets:
        for name in rng.sample(pool, packages):
            rows.append(InstalledSoftware(asset=a, name=name, version=f"1.{rng.randint(0, 5)}"))
        if len(rows) >= 50_000:
            InstalledSoftware.objects.bulk_create(rows, batch_size=BATCH)
            rows = []
    InstalledSoftware.objects.bulk_create(rows, batch_size=BATCH)
    # Loaded in bulk, past the agent: count the stored install counts once, as the migration
    # does (assets.software_counts), or the whole-estate report would read none.
    from tierline.assets import software_counts

    software_counts.rebuild()
    return {"location": locations[0].pk}


def main() -> None:
    args = parse_args()
    with migrated_database(args) as database:
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from tierline.assets import reports
        from tierline.people.models import User

        rng = random.Random(args.seed)
        started = time.perf_counter()
        chosen = load(args.devices, args.packages, rng)
        loaded = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"{args.devices:,} devices, {args.packages:,} packages each "
            f"({args.devices * args.packages:,} software rows, loaded in {loaded:.0f} s), "
            f"{database}, {args.runs} runs each"
        )
        staff = User.objects.create_user(username="bench-tech", password="x", role=User.Role.ADMIN)
        client = Client()
        client.force_login(staff)

        def count(**filters):
            return lambda: reports.estate_report(
                filters=reports.Filters(**filters), now=timezone.now()
            )

        def get(url: str, **params):
            def run():
                response = client.get(url, params)
                assert response.status_code == 200, response.status_code
                if response.streaming:
                    b"".join(response.streaming_content)

            return run

        cases = [
            ("count: whole estate", count()),
            ("count: one location", count(location_id=chosen["location"])),
            ("count: software search", count(software_search="pkg01")),
            ("count: top 200", count(top=200)),
            ("page (HTML)", get("/assets/reports/")),
            ("CSV", get("/assets/reports/estate.csv")),
            ("PDF", get("/assets/reports/estate.pdf")),
        ]
        print(f"{'request':24} {'median ms':>10} {'p95 ms':>9} {'N':>4} {'queries':>8}")
        for name, run in cases:
            with CaptureQueriesContext(connection) as seen:
                run()  # the warm-up, counted
            queries = len(seen)  # now: the timed runs reset the connection's query log
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                run()
                times.append((time.perf_counter() - t) * 1000)
            print(
                f"{name:24} {statistics.median(times):10.1f} {percentile(times, 0.95):9.1f} "
                f"{len(times):4d} {queries:8d}"
            )


if __name__ == "__main__":
    main()

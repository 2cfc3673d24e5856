"""Service-target benchmark: business-time arithmetic throughput and the sweep over N open tickets.

    python bench/sla.py                                    SQLite in a temporary dir, 100,000 tickets
    python bench/sla.py --tickets 10000                    a quick pass
    python bench/sla.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
                                                           PostgreSQL: creates and drops a bench database

Prints one table (median, p95, N, database):
- the arithmetic: `add_business_time` and `business_time_between` on a 09:00-12:30/13:30-17:00
  Europe/London calendar with England's holidays, starts spread over a year, durations from
  15 minutes to 5 business days; timed in batches of 1,000 on one core, as computations/s;
- an empty sweep: N open tickets whose clocks have nothing due (the common minute), timed per
  sweep in ms (the target: <= 200 ms on PostgreSQL at 100,000);
- a full sweep: 500 of them due at once (the sweep's batch), each recorded on its ticket's
  history, timed per sweep in ms.
Not a test: nothing here asserts, and the suite never runs it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_parser, finish_args, migrated_database, percentile  # noqa: E402

BATCH = 5000


def parse_args() -> argparse.Namespace:
    p = bench_parser(__doc__)
    p.add_argument("--tickets", type=int, default=100_000, help="open tickets (default 100000)")
    p.add_argument("--sweeps", type=int, default=50, help="timed sweeps of each kind (default 50)")
    p.add_argument("--computations", type=int, default=200_000, help="arithmetic calls timed")
    args = p.parse_args()
    if args.tickets < 1000 or args.sweeps < 1:
        p.error("--tickets must be at least 1000 and --sweeps at least 1")
    return finish_args(args)


def arithmetic(args: argparse.Namespace) -> list[tuple[str, float, float, int]]:
    from tierline.sla.businesstime import BusinessCalendar, add_business_time, business_time_between
    from tierline.sla.calendars import public_holidays

    rng = random.Random(args.seed)
    hours = dict.fromkeys(range(5), [(dt_time(9), dt_time(12, 30)), (dt_time(13, 30), dt_time(17))])
    closed = public_holidays("GB", "ENG", range(2025, 2029))
    calendar = BusinessCalendar.build(zone="Europe/London", hours=hours, closed=closed)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    starts = [base + timedelta(minutes=rng.randrange(365 * 24 * 60)) for _ in range(1000)]
    minutes = [15, 30, 60, 120, 240, 480, 960, 1440, 2400]
    durations = [timedelta(minutes=rng.choice(minutes)) for _ in range(1000)]
    ends = [s + d * 3 for s, d in zip(starts, durations, strict=True)]
    rows = []
    for name, fn, second in (
        ("add_business_time", add_business_time, durations),
        ("business_time_between", business_time_between, ends),
    ):
        for s, x in zip(starts, second, strict=True):  # warm: each date's intervals built once
            fn(calendar, s, x)
        rates = []
        for _ in range(max(1, args.computations // 1000)):
            began = time.perf_counter()
            for s, x in zip(starts, second, strict=True):
                fn(calendar, s, x)
            rates.append(1000 / (time.perf_counter() - began))
        # For a rate, the slow end is the low one: "p95" is the rate 95 % of batches beat.
        rows.append(
            (
                f"{name} (per s, one core)",
                statistics.median(rates),
                percentile(rates, 0.05),
                len(rates) * 1000,
            )
        )
    return rows


def load(n: int, rng: random.Random) -> SimpleNamespace:
    """N open tickets, each with a running clock whose next check is hours to days away."""
    from django.db import transaction
    from django.utils import timezone

    from tierline.desk.models import Channel, Status, Ticket
    from tierline.people.models import Team, User
    from tierline.sla.models import (
        BusinessHours,
        Calendar,
        ClockStatus,
        Policy,
        Target,
        TicketClock,
    )

    requester = User.objects.create(username="bench-requester", first_name="Bench")
    team = Team.objects.filter(tier=1).order_by("pk").first()
    calendar = Calendar.objects.create(
        name="Bench desk", zone="Europe/London", holiday_country="GB"
    )
    for weekday in range(5):
        BusinessHours.objects.create(
            calendar=calendar, weekday=weekday, start=dt_time(9), end=dt_time(17)
        )
    policy = Policy.objects.create(name="Bench", calendar=calendar)
    Target.objects.create(
        policy=policy, priority=3, first_response_minutes=60, resolution_minutes=24 * 60
    )
    now = timezone.now()
    started = time.perf_counter()
    for first in range(1, n + 1, BATCH):
        last = min(first + BATCH, n + 1)
        tickets, clocks = [], []
        for pk in range(first, last):
            created = now - timedelta(minutes=rng.randrange(0, 600))
            tickets.append(
                Ticket(
                    pk=pk,
                    number=f"TL-{pk:06d}",
                    subject="Bench",
                    description="Bench ticket",
                    requester=requester,
                    channel=Channel.PORTAL,
                    team=team,
                    tier=1,
                    status=Status.OPEN,
                    created_at=created,
                    updated_at=created,
                )
            )
            due = now + timedelta(hours=rng.randrange(2, 200))
            clocks.append(
                TicketClock(
                    ticket_id=pk,
                    requester=requester,
                    policy=policy,
                    calendar=policy.calendar,
                    status=ClockStatus.RUNNING,
                    started_at=created,
                    running_since=created,
                    resolution_minutes=24 * 60,
                    resolution_due=due,
                    resolution_risk_at=due - timedelta(hours=1),
                    next_check_at=due - timedelta(hours=1),
                )
            )
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets)
            TicketClock.objects.bulk_create(clocks)
    return SimpleNamespace(rate=n / (time.perf_counter() - started), requester=requester)


def time_sweeps(args: argparse.Namespace) -> list[tuple[str, float, float, int]]:
    from django.db import connection
    from django.utils import timezone

    from tierline.sla import services
    from tierline.sla.models import TicketClock

    rng = random.Random(args.seed)
    loaded = load(args.tickets, rng)
    print(f"loaded {args.tickets:,} open tickets with clocks at {loaded.rate:,.0f}/s", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    services.sweep(at=timezone.now())  # warm (system user, connection)
    empty = []
    for _ in range(args.sweeps):
        began = time.perf_counter()
        found = services.sweep(at=timezone.now())
        empty.append((time.perf_counter() - began) * 1000)
        assert found == 0, found  # noqa: S101 (the bench's own setup, not a test)
    due_ids = list(
        TicketClock.objects.order_by("pk").values_list("pk", flat=True)[: services.SWEEP_BATCH]
    )
    full = []
    for _ in range(args.sweeps):
        past = timezone.now() - timedelta(minutes=1)
        TicketClock.objects.filter(pk__in=due_ids).update(
            resolution_risk_at=past, next_check_at=past, noticed=[]
        )
        began = time.perf_counter()
        found = services.sweep(at=timezone.now())
        full.append((time.perf_counter() - began) * 1000)
    return [
        (
            f"empty sweep, {args.tickets:,} open (ms)",
            statistics.median(empty),
            percentile(empty, 0.95),
            len(empty),
        ),
        (
            f"sweep recording {found} at risk (ms)",
            statistics.median(full),
            percentile(full, 0.95),
            len(full),
        ),
    ]


def main() -> int:
    args = parse_args()
    with migrated_database(args) as vendor:
        rows = arithmetic(args)
        rows += time_sweeps(args)
    print()
    print(
        f"database: {vendor}   tickets: {args.tickets:,}   python: {sys.version.split()[0]}   pid: {os.getpid()}"
    )
    print(f"{'measure':<48} {'median':>12} {'p95':>12} {'N':>8}")
    for name, median, p95, n in rows:
        print(f"{name:<48} {median:>12,.1f} {p95:>12,.1f} {n:>8,}")
    print(
        "(rates: p95 is the rate 95% of batches of 1,000 reached; times: 95% of sweeps took less)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

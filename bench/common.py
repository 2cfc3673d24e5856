"""What the benchmarks share: their command line, a migrated fresh database, the p95.

from common import bench_parser, finish_args, migrated_database, percentile
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from desk import fresh_database  # bench/desk.py: a fresh database, dropped after


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every data benchmark takes: --database-url and --seed."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", help="postgresql://user@host:port/any")
    p.add_argument("--seed", type=int, default=1)
    return p


def finish_args(args: argparse.Namespace) -> argparse.Namespace:
    """What fresh_database() reads besides the URL: never keep or reuse the bench database."""
    args.keep = False
    args.reuse = False
    return args


@contextmanager
def migrated_database(args: argparse.Namespace) -> Iterator[str]:
    """A fresh database (SQLite in a temporary dir, or a new PostgreSQL one), Django set up on it
    and migrated; yields the vendor's name and drops it all afterwards."""
    with fresh_database(args) as vendor:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        yield vendor


def percentile(values: list[float], share: float) -> float:
    """The value `share` of the way through the sorted values (0.95: the p95)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]

"""The stored install counts behind the estate report's "software by install count"
(`assets.SoftwareCount`: name, version -> devices). Every change to `InstalledSoftware` passes
its difference here, inside the same transaction: the agent's installed, removed and upgraded
packages (`assets.agent`), and an asset's deletion (a `pre_delete` receiver, so the admin and
any cascade are counted too). The report then groups a few thousand count rows instead of
every software row in the estate.

The change is one upsert that adds to the stored figure (`installs = installs + delta` in the
database, never read-modify-write), so two reports at once adding the same package both count.
Keys are written in sorted order so two transactions lock the same rows in the same order."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count

from tierline.assets.models import Asset, InstalledSoftware, SoftwareCount

Key = tuple[str, str]
CHUNK = 500  # rows per statement: 3 parameters each stays under SQLite's limit


def adjust(deltas: Counter[Key] | dict[Key, int]) -> None:
    """Add each (name, version)'s delta (negative for removals) to its stored count."""
    rows = sorted((key, delta) for key, delta in deltas.items() if delta)
    if not rows:
        return
    table = connection.ops.quote_name(SoftwareCount._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            part = rows[start : start + CHUNK]
            values = ", ".join(["(%s, %s, %s)"] * len(part))
            params: list[object] = []
            for (name, version), delta in part:
                params += [name, version, delta]
            cursor.execute(
                f"INSERT INTO {table} (name, version, installs) VALUES {values} "  # noqa: S608 (our table; typed text only through %s)
                f"ON CONFLICT (name, version) DO UPDATE "
                f"SET installs = {table}.installs + excluded.installs",
                params,
            )


def of_rows(rows: Iterable[Key], sign: int = 1) -> Counter[Key]:
    """The deltas for these (name, version) rows appearing (+1) or going (-1)."""
    deltas: Counter[Key] = Counter()
    for key in rows:
        deltas[key] += sign
    return deltas


def forget_asset(*, asset_id: int) -> None:
    """Take an asset's software out of the counts (called before its rows are deleted)."""
    adjust(
        of_rows(
            InstalledSoftware.objects.filter(asset_id=asset_id).values_list("name", "version"),
            sign=-1,
        )
    )


def asset_deleted(sender: type[Asset], instance: Asset, **kwargs: object) -> None:
    forget_asset(asset_id=instance.pk)


def live_counts() -> dict[Key, int]:
    """The counts computed afresh from every software row (the slow GROUP BY)."""
    return {
        (r["name"], r["version"]): r["n"]
        for r in InstalledSoftware.objects.values("name", "version")
        .annotate(n=Count("pk"))
        .order_by()
    }


def stored_counts() -> dict[Key, int]:
    return {
        (name, version): installs
        for name, version, installs in SoftwareCount.objects.filter(installs__gt=0).values_list(
            "name", "version", "installs"
        )
    }


def differences() -> dict[Key, tuple[int, int]]:
    """(stored, live) for every key where the two disagree: empty when consistent."""
    stored, live = stored_counts(), live_counts()
    return {
        key: (stored.get(key, 0), live.get(key, 0))
        for key in stored.keys() | live.keys()
        if stored.get(key, 0) != live.get(key, 0)
    }


@transaction.atomic
def rebuild() -> int:
    """Recount from the software rows (after a bulk load, or to repair). Returns the rows."""
    SoftwareCount.objects.all().delete()
    table = connection.ops.quote_name(SoftwareCount._meta.db_table)
    source = connection.ops.quote_name(InstalledSoftware._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, version, installs) "  # noqa: S608 (our tables, no input)
            f"SELECT name, version, COUNT(*) FROM {source} GROUP BY name, version"
        )
    return SoftwareCount.objects.count()

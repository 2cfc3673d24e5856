"""The estate report's stored software counts (`assets.SoftwareCount`): kept in the same
transaction as the software rows, equal to a fresh GROUP BY after any series of reports,
removals, upgrades and deletions, and read instead of the software rows by the whole-estate
report."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tests.assets import factories
from tierline.assets import reports, software_counts
from tierline.assets.models import Asset, InstalledSoftware, SoftwareCount

POOL = [f"pkg-{n}" for n in range(12)]


def _body(n: int, sequence: int, packages: dict[str, str]) -> dict:
    return factories.report(
        sequence,
        serial=f"SN-{n}",
        hostname=f"ws-{n}",
        nics=[{"name": "eth0", "mac": f"00:11:22:33:44:{n:02x}", "addresses": []}],
        software=[{"name": k, "version": v, "source": "dpkg"} for k, v in packages.items()],
    )


def _post(key: str, body: dict) -> None:
    response = factories.device_client(APIClient, key).post(
        "/api/v1/agent/report", body, format="json"
    )
    assert response.status_code == 200, response.content


def _live_software_rows(top: int = reports.TOP_MAX, search: str = "") -> list[tuple]:
    """The software section as the live query over every row counts it."""
    rows = InstalledSoftware.objects.all()
    if search:
        rows = rows.filter(name__icontains=search)
    names: dict[str, list[str]] = {}
    for name, version in rows.values_list("name", "version"):
        names.setdefault(name, []).append(version)
    ranked = sorted(names.items(), key=lambda item: (-len(item[1]), item[0]))[:top]
    return [(name, len(versions), len(set(versions))) for name, versions in ranked]


def _report_software_rows(top: int = reports.TOP_MAX, search: str = "") -> list[tuple]:
    report = reports.estate_report(
        filters=reports.Filters(top=top, software_search=search), now=timezone.now()
    )
    return [
        (row.label, row.count, int(row.detail.split()[0]))
        for row in report.section("software").rows
    ]


@pytest.mark.django_db
def test_stored_counts_equal_a_fresh_group_by_after_reports_removals_upgrades_and_deletions():
    rng = random.Random(12)
    keys = [factories.enrolled_device()[1] for _ in range(5)]
    sequences = dict.fromkeys(range(5), 0)
    for _round in range(6):
        for n, key in enumerate(keys):
            if key is None:
                continue
            sequences[n] += 1
            chosen = rng.sample(POOL, rng.randint(0, len(POOL)))
            packages = {name: f"1.{rng.randint(0, 2)}" for name in chosen}
            _post(key, _body(n, sequences[n], packages))
            assert software_counts.differences() == {}
        if _round == 3:
            # an asset deleted on its own, and one through a queryset (the admin's way)
            Asset.objects.get(serial="SN-0").delete()
            Asset.objects.filter(serial="SN-1").delete()
            keys[0] = keys[1] = None
            assert software_counts.differences() == {}
    assert software_counts.stored_counts()  # the series left software to count
    assert _report_software_rows() == _live_software_rows()
    assert _report_software_rows(top=3, search="PKG-1") == _live_software_rows(3, "pkg-1")


@pytest.mark.django_db
def test_the_whole_estate_report_reads_the_stored_counts_and_a_filtered_one_the_rows():
    asset = factories.asset(tag="A-1", location=None)
    factories.software(asset=asset, name="bash", version="5")

    def tables(**filters) -> str:
        with CaptureQueriesContext(connection) as seen:
            reports.estate_report(filters=reports.Filters(**filters), now=timezone.now())
        return " ".join(q["sql"] for q in seen.captured_queries)

    whole = tables()
    assert "assets_softwarecount" in whole and "assets_installedsoftware" not in whole
    assert "assets_installedsoftware" in tables(type_id=1)


@pytest.mark.django_db
def test_rebuild_recounts_rows_loaded_in_bulk_like_the_migration_backfill():
    asset = factories.asset(tag="A-1")
    InstalledSoftware.objects.bulk_create(
        [InstalledSoftware(asset=asset, name=n, version="1") for n in ("a", "b", "c")]
    )
    assert set(software_counts.differences()) == {("a", "1"), ("b", "1"), ("c", "1")}
    assert software_counts.rebuild() == 3
    assert software_counts.differences() == {}


@pytest.mark.django_db(transaction=True)
def test_two_reports_at_once_adding_the_same_packages_both_count():
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions: PostgreSQL")
    keys = [factories.enrolled_device()[1] for _ in range(2)]
    packages = dict.fromkeys(POOL, "1.0")
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def send(n: int) -> None:
        try:
            start.wait(timeout=10)
            _post(keys[n], _body(n, 1, packages))
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert dict(SoftwareCount.objects.values_list("name", "installs")) == dict.fromkeys(POOL, 2)
    assert software_counts.differences() == {}

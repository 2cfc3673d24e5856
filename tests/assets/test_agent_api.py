"""The agent API: enrol once, report, match the asset, cheap unchanged reports, exact change log."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.assets import factories
from tierline.assets import agent
from tierline.assets.models import AgentDevice, Asset, InstalledSoftware, SystemChange
from tierline.core.history import history_of

pytestmark = pytest.mark.django_db


def _post(key: str, body: dict):
    return factories.device_client(APIClient, key).post("/api/v1/agent/report", body, format="json")


def test_an_enrolment_token_is_swapped_once_for_a_device_credential():
    # given
    _token, key = agent.issue_enrolment_token()
    client = APIClient()
    # when
    first = client.post("/api/v1/agent/enrol", {"token": key}, format="json")
    second = client.post("/api/v1/agent/enrol", {"token": key}, format="json")
    # then
    assert first.status_code == 201
    credential = first.json()["credential"]
    assert credential.startswith("tld_")
    assert second.status_code == 401
    assert "used" in second.json()["detail"]
    device = AgentDevice.objects.get()
    assert credential not in device.digest and device.digest == agent.digest(credential)


def test_a_first_report_creates_an_asset_for_review_with_its_inventory():
    _device, key = factories.enrolled_device()
    response = _post(key, factories.report())
    assert response.status_code == 200, response.content
    assert response.json()["created"] is True
    asset = Asset.objects.get()
    assert asset.needs_review and asset.hostname == "ws-0042" and asset.serial == "SN-12345"
    assert asset.os_name == "Debian GNU/Linux" and asset.hardware["memory_bytes"] == 16 * 2**30
    assert sorted(InstalledSoftware.objects.values_list("name", flat=True)) == [
        "bash",
        "curl",
        "openssl",
    ]
    assert [h.action for h in history_of(asset)] == ["created", "software inventoried"]


@pytest.mark.parametrize(
    ("existing", "report_values"),
    [
        ({"serial": "SN-12345", "hostname": "old-name"}, {}),
        ({"hostname": "other"}, {"serial": "To Be Filled By O.E.M."}),
        ({"hostname": "WS-0042"}, {"serial": "", "nics": []}),
    ],
    ids=["by-serial", "by-mac", "by-hostname"],
)
def test_a_report_finds_its_asset_by_serial_then_mac_then_hostname(existing, report_values):
    asset = factories.asset(tag="LT-1", **existing)
    if "serial" in report_values and report_values["serial"]:
        asset.macs.create(mac="00:11:22:33:44:55")
    _device, key = factories.enrolled_device()
    response = _post(key, factories.report(**report_values))
    assert response.status_code == 200, response.content
    assert response.json() == {**response.json(), "asset_id": asset.pk, "created": False}
    assert Asset.objects.count() == 1


def test_an_unchanged_report_costs_one_update_and_writes_nothing_else():
    device, key = factories.enrolled_device()
    assert _post(key, factories.report(1)).status_code == 200
    asset = Asset.objects.get()
    entries = history_of(asset).count()
    client = factories.device_client(APIClient, key)
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/agent/report", factories.report(2), format="json")
    # then
    assert response.status_code == 200 and response.json()["changed"] is False
    writes = [
        q["sql"]
        for q in queries
        if not q["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE"))
    ]
    assert len(writes) == 1 and writes[0].upper().startswith("UPDATE"), writes
    assert history_of(asset).count() == entries
    device.refresh_from_db()
    assert device.last_sequence == 2 and device.last_seen_at is not None


def _log(asset) -> list[tuple[str, str, str, str]]:
    return [
        (c.kind, c.item, c.before, c.after)
        for c in SystemChange.objects.filter(asset=asset).order_by("pk")
    ]


def test_a_changed_software_list_writes_exactly_the_change():
    _device, key = factories.enrolled_device()
    base = factories.report(1)
    assert _post(key, base).status_code == 200
    asset = Asset.objects.get()
    before = history_of(asset).count()
    assert _log(asset) == [("inventoried", "", "", "3 packages")]
    software = [
        {"name": "bash", "version": "5.2.15-2", "source": "dpkg"},
        {"name": "curl", "version": "7.88.1-11", "source": "dpkg"},
        {"name": "htop", "version": "3.2.2-2", "source": "dpkg"},
    ]
    # when
    response = _post(key, factories.report(2, software=software))
    # then
    assert response.status_code == 200
    assert response.json()["installed"] == 1 and response.json()["removed"] == 1
    assert response.json()["upgraded"] == 1
    assert _log(asset)[1:] == [
        ("software_installed", "htop", "", "3.2.2-2"),
        ("software_removed", "openssl", "3.0.11-1", ""),
        ("software_upgraded", "curl", "7.88.1-10", "7.88.1-11"),
    ]
    assert {c.sequence for c in SystemChange.objects.filter(asset=asset)} == {1, 2}
    # the change log is the record of system changes; the history keeps people's edits
    assert history_of(asset).count() == before
    assert dict(InstalledSoftware.objects.values_list("name", "version")) == {
        "bash": "5.2.15-2",
        "curl": "7.88.1-11",
        "htop": "3.2.2-2",
    }


def test_an_os_upgrade_new_memory_disks_cpu_and_interfaces_are_each_one_change():
    # given: a first report
    _device, key = factories.enrolled_device()
    assert _post(key, factories.report(1)).status_code == 200
    asset = Asset.objects.get()
    # when: the machine was upgraded and rebuilt (free space and addresses also moved)
    changed = factories.report(
        2,
        hostname="ws-0042b",
        os={"name": "Debian GNU/Linux", "version": "13", "kernel": "6.12.0"},
        memory_bytes=32 * 2**30,
        cpu={"model": "Intel Core i7", "cores": 8, "logical": 16},
        disks=[
            {"mount": "/", "total_bytes": 1000 * 2**30, "free_bytes": 900 * 2**30},
            {"mount": "/data", "total_bytes": 2**39, "free_bytes": 2**38},
        ],
        nics=[
            {"name": "eth0", "mac": "00:11:22:33:44:55", "addresses": ["10.0.0.99"]},
            {"name": "wlan0", "mac": "00:11:22:33:44:66", "addresses": []},
        ],
    )
    assert _post(key, changed).status_code == 200
    # then: one entry per change, before -> after as a person reads it
    assert _log(asset)[1:] == [
        ("hostname", "hostname", "ws-0042", "ws-0042b"),
        ("os", "operating system", "Debian GNU/Linux 12", "Debian GNU/Linux 13"),
        ("kernel", "kernel", "6.1.0", "6.12.0"),
        ("memory", "memory", "16 GiB", "32 GiB"),
        ("cpu", "CPU", "Intel Core i5, 4 cores (8 threads)", "Intel Core i7, 8 cores (16 threads)"),
        ("disk_added", "/data", "", "512 GiB"),
        ("disk_resized", "/", "500 GiB", "1000 GiB"),
        ("nic_added", "wlan0", "", "00:11:22:33:44:66"),
    ]
    # when: the disk goes and only its free space changes on the other
    fewer = {**changed, "sequence": 3, "disks": [{"mount": "/", "total_bytes": 1000 * 2**30}]}
    assert _post(key, {**fewer, "nics": changed["nics"][:1]}).status_code == 200
    # then
    assert _log(asset)[9:] == [
        ("disk_removed", "/data", "512 GiB", ""),
        ("nic_removed", "wlan0", "00:11:22:33:44:66", ""),
    ]


def test_a_changed_posture_alone_writes_no_change_log_entry():
    _device, key = factories.enrolled_device()
    assert _post(key, factories.report(1)).status_code == 200
    asset = Asset.objects.get()
    response = _post(key, factories.report(2, security={"firewall": "off"}, uptime_seconds=9))
    assert response.status_code == 200 and response.json()["changed"] is True
    assert [kind for kind, *_ in _log(asset)] == ["inventoried"]


def test_search_finds_the_asset_a_report_created(api, tier1):
    _device, key = factories.enrolled_device()
    _post(key, factories.report())
    response = api(tier1).get("/api/v1/assets/", {"search": "WS-0042"})
    assert response.status_code == 200
    assert [a["hostname"] for a in response.json()["results"]] == ["ws-0042"]


def test_requesters_cannot_list_assets(api, employee):
    assert api(employee).get("/api/v1/assets/").status_code == 403


def test_an_unchanged_report_by_its_hash_costs_one_update():
    # given: an accepted report, whose answer carries the inventory's hash
    device, key = factories.enrolled_device()
    first = _post(key, factories.report(1)).json()
    client = factories.device_client(APIClient, key)
    body = {
        "sequence": 2,
        "sent_at": factories.report()["sent_at"],
        "inventory_hash": first["inventory_hash"],
        "uptime_seconds": 7200,
    }
    # when
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/agent/report/unchanged", body, format="json")
    # then
    assert response.status_code == 200 and response.json()["changed"] is False
    writes = [
        q["sql"]
        for q in queries
        if not q["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE"))
    ]
    assert len(writes) == 1, writes
    replayed = client.post("/api/v1/agent/report/unchanged", body, format="json")
    assert replayed.status_code == 409
    stale = client.post(
        "/api/v1/agent/report/unchanged",
        {**body, "sequence": 3, "inventory_hash": "0" * 64},
        format="json",
    )
    assert stale.status_code == 409 and "whole report" in stale.json()["detail"]
    device.refresh_from_db()
    assert device.last_sequence == 2

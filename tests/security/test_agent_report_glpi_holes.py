"""The inventory endpoint is where GLPI had its worst holes (CVE-2023-28849 and others: SQL
injection and stored XSS from unauthenticated agent reports). Each refusal here changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.assets import factories
from tierline.assets.models import AgentDevice, Asset, InstalledSoftware

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
SQLISH = "x'); DROP TABLE assets_asset; --"


def _post(key: str | None, body, **extra):
    client = factories.device_client(APIClient, key) if key else APIClient()
    return client.post("/api/v1/agent/report", body, format="json", **extra)


def _nothing_written() -> bool:
    return not Asset.objects.exists() and not InstalledSoftware.objects.exists()


@pytest.mark.parametrize("key", [None, "tld_not-a-real-credential", "Token abc"])
def test_unauthenticated_report_is_refused_and_changes_nothing(key):
    response = _post(key, factories.report())
    assert response.status_code in (401, 403)
    assert response.json()["detail"]
    assert _nothing_written()


def test_an_api_token_of_a_person_is_not_a_device_credential(api, admin_user):
    response = api(admin_user).post("/api/v1/agent/report", factories.report(), format="json")
    assert response.status_code == 401
    assert _nothing_written()


def test_a_revoked_device_is_refused():
    device, key = factories.enrolled_device()
    AgentDevice.objects.filter(pk=device.pk).update(revoked_at=timezone.now())
    assert _post(key, factories.report()).status_code == 401
    assert _nothing_written()


def test_sql_ish_strings_are_stored_as_typed_and_match_nothing():
    _device, key = factories.enrolled_device()
    factories.asset(tag="KEEP", hostname="keep")
    body = factories.report(
        hostname=SQLISH, serial="' OR '1'='1", software=[{"name": SQLISH, "version": "1' --"}]
    )
    response = _post(key, body)
    assert response.status_code == 200, response.content
    assert response.json()["created"] is True
    assert Asset.objects.count() == 2
    assert Asset.objects.get(hostname=SQLISH).serial == "' OR '1'='1"
    assert InstalledSoftware.objects.get().name == SQLISH


@pytest.mark.parametrize(
    "body_change",
    [
        {"hostname": "h" * 254},
        {"software": [{"name": f"p{i}", "version": "1"} for i in range(20_001)]},
        {"nics": [{"name": "eth0", "mac": "not-a-mac"}]},
        {"software": [{"name": "bash"}, {"name": "bash"}]},
        {"unexpected": "field"},
        {"os": {"name": "x", "evil": 1}},
        {"hostname": "a\x00b"},
        {"memory_bytes": -1},
        {"sequence": "1; DROP"},
    ],
    ids=["long", "too-many", "mac", "twice", "unknown", "nested-unknown", "nul", "negative", "seq"],
)
def test_malformed_reports_are_refused_with_the_field_named(body_change):
    _device, key = factories.enrolled_device()
    response = _post(key, factories.report(**body_change))
    assert response.status_code == 400, response.content
    assert response.json()
    assert _nothing_written()


def test_an_oversized_report_is_refused_before_it_is_read(settings):
    settings.TIERLINE = {**settings.TIERLINE, "AGENT_REPORT_MAX_BYTES": 10_000}
    _device, key = factories.enrolled_device()
    body = factories.report(
        software=[{"name": f"package-{i}", "version": "1.0"} for i in range(500)]
    )
    response = _post(key, body)
    assert response.status_code == 413
    assert "at most 10000" in response.json()["detail"]
    assert _nothing_written()


def test_a_replayed_report_is_refused_and_changes_nothing():
    _device, key = factories.enrolled_device()
    first = factories.report(1)
    assert _post(key, first).status_code == 200
    asset = Asset.objects.get()
    # when: the same report again, and an older one with a different inventory
    again = _post(key, first)
    older = _post(key, factories.report(1, software=[]))
    # then
    assert again.status_code == 409 and "already received" in again.json()["detail"]
    assert older.status_code == 409
    assert InstalledSoftware.objects.filter(asset=asset).count() == 3


def test_a_report_from_outside_the_time_window_is_refused():
    _device, key = factories.enrolled_device()
    stale = factories.report(1, sent_at=timezone.now() - timedelta(hours=2))
    response = _post(key, stale)
    assert response.status_code == 409 and "clock" in response.json()["detail"]
    assert _nothing_written()


def test_a_device_that_reports_too_often_is_slowed_down(settings):
    settings.TIERLINE = {**settings.TIERLINE, "AGENT_RATE": "2/min"}
    _device, key = factories.enrolled_device()
    codes = [_post(key, factories.report(n)).status_code for n in (1, 2, 3)]
    assert codes == [200, 200, 429]


def test_script_in_every_string_field_is_shown_as_text(client, tier1, employee):
    # given: a report with <script> in every string it carries
    _device, key = factories.enrolled_device()
    body = factories.report(
        hostname=SCRIPT,
        serial=SCRIPT,
        make=SCRIPT,
        model=SCRIPT,
        agent_version=SCRIPT[:40],
        os={"name": SCRIPT, "version": SCRIPT, "kernel": SCRIPT},
        cpu={"model": SCRIPT, "cores": 2},
        disks=[{"mount": SCRIPT, "device": SCRIPT, "fs": SCRIPT[:40], "total_bytes": 1}],
        nics=[{"name": SCRIPT, "mac": "00:11:22:33:44:56", "addresses": [SCRIPT]}],
        software=[{"name": SCRIPT, "version": SCRIPT}],
        accounts=[{"name": SCRIPT, "admin": True}],
    )
    assert _post(key, body).status_code == 200
    asset = Asset.objects.get()
    asset.assigned_to = employee
    asset.save(update_fields=["assigned_to"])
    client.force_login(tier1)
    # when
    pages = [
        client.get("/assets/").content.decode(),
        client.get(f"/assets/{asset.pk}/").content.decode(),
    ]
    # then
    for html in pages:
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html

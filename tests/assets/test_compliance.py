"""Security checks: policies evaluated on every changed agent report (through the real report
API), pass / fail / unknown with the reason, the compliance report, its trend and CSV, the
board's "failed checks" flag, the admin's validation and the agent's last update time."""

from __future__ import annotations

import csv
import importlib
import io
import os
from datetime import date, timedelta

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from rest_framework.test import APIClient
from tierline_agent import collect

from tests.assets import factories
from tests.people import factories as people_factories
from tierline.assets import compliance, services
from tierline.assets.compliance_models import (
    ApprovedAccount,
    ComplianceSnapshot,
    ComplianceState,
    PolicyKind,
    PolicyResult,
    SecurityPolicy,
    SupportedOS,
)
from tierline.assets.compliance_views import trend
from tierline.assets.models import Asset, AssetType

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _rules():
    """Exactly the policies and OS rows a test makes (the migration's seed is tested on its
    own, and a transactional test elsewhere may have emptied it)."""
    SecurityPolicy.objects.all().delete()
    SupportedOS.objects.all().delete()


def policy(kind: str, **values) -> SecurityPolicy:
    values.setdefault("name", PolicyKind(kind).label)
    return SecurityPolicy.objects.create(kind=kind, **values)


def os_row(name: str, low: str, high: str, label: str, ends: str) -> SupportedOS:
    return SupportedOS.objects.create(
        name=name, version_from=low, version_to=high, label=label, ends_on=date.fromisoformat(ends)
    )


def send(body: dict, key: str | None = None) -> tuple[Asset, str]:
    if key is None:
        _device, key = factories.enrolled_device()
    response = factories.device_client(APIClient, key).post(
        "/api/v1/agent/report", body, format="json"
    )
    assert response.status_code == 200, response.content
    return Asset.objects.get(pk=response.json()["asset_id"]), key


def results(asset: Asset) -> dict[str, tuple[str, str]]:
    return {
        r.policy.name: (r.outcome, r.reason)
        for r in PolicyResult.objects.filter(asset=asset).select_related("policy")
    }


def test_policies_are_evaluated_for_real_through_the_agent_report_api():
    # given
    policy(PolicyKind.FIREWALL, severity="high")
    policy(PolicyKind.DISK_ENCRYPTION)
    policy(PolicyKind.ANTIVIRUS)
    policy(PolicyKind.OS_SUPPORTED)
    policy(PolicyKind.UPDATES, max_days=30)
    os_row("Debian", "12", "12", "Debian 12 (bookworm)", "2999-06-30")
    # when: the report says firewall on, encryption off, antivirus not at all
    asset, key = send(factories.report())
    # then
    found = results(asset)
    assert found["Firewall on"][0] == "pass"
    assert found["Disk encrypted"] == ("fail", "The agent reports disk encryption off.")
    assert found["Antivirus on"][0] == "unknown"
    assert "cannot tell" in found["Antivirus on"][1]
    assert found["OS still supported"] == (
        "pass",
        "Debian 12 (bookworm): supported until 2999-06-30.",
    )
    # 3 pending and no last update time: the platform does not tell, so unknown, not fail
    assert found["Updates applied within N days"][0] == "unknown"
    # when: the next report fixes encryption
    send(
        factories.report(2, security={"firewall": "on", "disk_encryption": "on"}),
        key,
    )
    assert results(asset)["Disk encrypted"][0] == "pass"


def test_updates_pass_fail_or_unknown_by_what_the_agent_tells():
    policy(PolicyKind.UPDATES, max_days=30)
    now = timezone.now()

    def outcome(security: dict) -> tuple[str, str]:
        asset, _key = send(factories.report(security=security))
        return results(asset)["Updates applied within N days"]

    old = (now - timedelta(days=40)).isoformat()
    recent = (now - timedelta(days=5)).isoformat()
    assert outcome({"pending_updates": 0})[0] == "pass"
    failed = outcome({"pending_updates": 4, "last_update_at": old})
    assert failed[0] == "fail" and "40 days ago (more than 30)" in failed[1]
    assert outcome({"pending_updates": 4, "last_update_at": recent})[0] == "pass"
    assert outcome({"last_update_at": old})[0] == "fail"
    assert outcome({})[0] == "unknown"


def test_a_last_update_time_in_the_future_is_refused_with_a_clear_message():
    _device, key = factories.enrolled_device()
    future = (timezone.now() + timedelta(days=3)).isoformat()
    body = factories.report(security={"last_update_at": future})
    response = factories.device_client(APIClient, key).post(
        "/api/v1/agent/report", body, format="json"
    )
    assert response.status_code == 400
    assert "in the future" in response.content.decode()
    assert not Asset.objects.exists()


def test_banned_software_matches_names_and_patterns_in_any_case():
    policy(PolicyKind.BANNED_SOFTWARE, banned="teamviewer*\nanydesk")
    software = [
        {"name": "TeamViewer-host", "version": "15", "source": "dpkg"},
        {"name": "bash", "version": "5", "source": "dpkg"},
        {"name": "anydesk-helper", "version": "1", "source": "dpkg"},  # not "anydesk" exactly
    ]
    asset, _key = send(factories.report(software=software))
    assert results(asset)["No banned software"] == (
        "fail",
        "Banned software installed: TeamViewer-host.",
    )
    clean, _key = send(factories.report(hostname="ws-2", serial="SN-2", nics=[]))
    assert results(clean)["No banned software"][0] == "pass"


def test_unapproved_admins_fail_and_approvals_are_global_or_per_department_or_type():
    # given
    policy(PolicyKind.ADMIN_ACCOUNTS)
    finance = people_factories.DepartmentFactory(name="Finance")
    server = AssetType.objects.get_or_create(name="Server")[0]
    ApprovedAccount.objects.create(name="root")
    ApprovedAccount.objects.create(name="fin-admin*", department=finance)
    ApprovedAccount.objects.create(name="svc-backup", asset_type=server)
    accounts = [
        {"name": "root", "admin": True},
        {"name": "fin-admin-2", "admin": True},
        {"name": "svc-backup", "admin": True},
        {"name": "erin", "admin": False},
    ]
    # when: a device nobody in Finance holds, of no server type
    asset, key = send(factories.report(accounts=accounts))
    # then
    assert results(asset)["No unapproved admin accounts"] == (
        "fail",
        "Administrators not on the approved list: fin-admin-2, svc-backup.",
    )
    # when: it becomes a Finance person's server, and reports again with a change
    person = people_factories.UserFactory(username="fin", department=finance)
    Asset.objects.filter(pk=asset.pk).update(assigned_to=person, asset_type=server)
    send(factories.report(2, accounts=accounts, memory_bytes=32 * 2**30), key)
    assert results(asset)["No unapproved admin accounts"] == (
        "pass",
        "Every administrator is approved (3).",
    )
    # an agent that cannot read accounts (Windows) leaves it unknown
    windows, _key = send(factories.report(hostname="win", serial="SN-W", nics=[], accounts=[]))
    assert results(windows)["No unapproved admin accounts"][0] == "unknown"


@pytest.mark.parametrize(
    ("name", "version", "outcome", "reason"),
    [
        ("Ubuntu", "18.04", "fail", "Ubuntu 18.04 LTS: support ended on 2023-05-31."),
        ("Ubuntu", "24.04", "pass", "Ubuntu 24.04 LTS: supported until 2029-04-30."),
        ("Windows", "10.0.19045", "fail", "Windows 10: support ended on 2025-10-14."),
        ("Windows", "10.0.26200", "pass", "Windows 11 25H2: supported until 2027-10-12."),
        ("Debian GNU/Linux", "12", "pass", "Debian 12 (bookworm): supported until 2028-06-30."),
        ("macOS", "12.7.6", "fail", "macOS 12 Monterey: support ended on 2024-07-29."),
        ("Plan 9", "4", "unknown", "Plan 9 4 is not in the table of supported operating systems"),
        ("", "", "unknown", "The agent did not report the operating system."),
    ],
)
def test_os_end_of_support_from_the_seeded_table(name, version, outcome, reason, monkeypatch):
    # given: the migration's seed, on a fixed day
    migration = importlib.import_module("tierline.assets.migrations.0004_security_checks")
    migration.seed(django_apps, None)
    SecurityPolicy.objects.exclude(kind=PolicyKind.OS_SUPPORTED).delete()
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2026, 11, 30))
    # when
    asset, _key = send(factories.report(os={"name": name, "version": version, "kernel": ""}))
    # then
    found = results(asset)["OS still supported"]
    assert found[0] == outcome
    assert found[1].startswith(reason)


def test_an_unchanged_report_evaluates_nothing(monkeypatch):
    policy(PolicyKind.FIREWALL)
    body = factories.report()
    asset, key = send(body)
    checked = PolicyResult.objects.get(asset=asset).checked_at

    def refuse(**kwargs):
        raise AssertionError("an unchanged report evaluated the policies")

    monkeypatch.setattr(compliance, "evaluate_asset", refuse)
    send({**body, "sequence": 2, "sent_at": timezone.now().isoformat()}, key)
    assert PolicyResult.objects.get(asset=asset).checked_at == checked


def test_the_job_evaluates_again_only_when_a_policy_changed_or_the_day_turned():
    # given: a device evaluated when no policy was on
    asset, _key = send(factories.report())
    assert not PolicyResult.objects.filter(asset=asset).exists()
    compliance.run()
    # when: a policy is added and the change marked
    policy(PolicyKind.DISK_ENCRYPTION)
    compliance.policies_changed()
    counts = compliance.run()
    # then
    assert counts["evaluated"] == 1
    assert results(asset)["Disk encrypted"][0] == "fail"
    assert compliance.run()["evaluated"] == 0  # nothing changed: cheap
    state = ComplianceState.objects.get()
    ComplianceState.objects.filter(pk=state.pk).update(
        evaluated_at=timezone.now() - timedelta(days=1)
    )
    assert compliance.run()["evaluated"] == 1


def test_the_admin_refuses_bad_policy_definitions_with_a_clear_message(client, admin_user):
    client.force_login(admin_user)
    base = {"name": "P", "enabled": "on", "severity": "high", "max_days": "", "banned": ""}
    cases = [
        ({"kind": "updates"}, "needs N, from 1 to 3650 days"),
        ({"kind": "updates", "max_days": "9999"}, "needs N, from 1 to 3650 days"),
        ({"kind": "firewall", "max_days": "5"}, "Days are only for"),
        ({"kind": "banned_software"}, "at least one name or pattern"),
        ({"kind": "banned_software", "banned": "*"}, "would match every name"),
        ({"kind": "banned_software", "banned": "ok\n" + SCRIPT}, "characters a name cannot have"),
        ({"kind": "firewall", "banned": "x"}, "only for"),
    ]
    for values, message in cases:
        response = client.post("/admin/assets/securitypolicy/add/", {**base, **values})
        assert response.status_code == 200, values
        html = response.content.decode()
        assert message in html, (values, message)
        assert SCRIPT not in html
    assert not SecurityPolicy.objects.exists()
    bad_os = [
        ({"version_from": "abc", "version_to": "12"}, "is not numbers and dots"),
        ({"version_from": "12", "version_to": "11"}, "is after to version"),
    ]
    for values, message in bad_os:
        data = {"name": "Debian", "label": "D", "ends_on": "2030-01-01", "note": "", **values}
        response = client.post("/admin/assets/supportedos/add/", data)
        assert response.status_code == 200 and message in response.content.decode()
    assert not SupportedOS.objects.exists()
    response = client.post("/admin/assets/approvedaccount/add/", {"name": "*"})
    assert "would match every name" in response.content.decode()


def test_a_policy_saved_in_the_admin_evaluates_every_device_again(
    client, admin_user, django_capture_on_commit_callbacks
):
    # given: a device that reported with nothing on
    asset, _key = send(factories.report(software=[{"name": "AnyDesk", "version": "1"}]))
    client.force_login(admin_user)
    # when: an administrator adds a banned-software policy
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/assets/securitypolicy/add/",
            {
                "name": "No remote tools",
                "kind": "banned_software",
                "enabled": "on",
                "severity": "critical",
                "banned": "anydesk\n teamviewer* ",
            },
        )
    # then
    assert response.status_code == 302, response.content.decode()[:3000]
    assert SecurityPolicy.objects.get().banned == "anydesk\nteamviewer*"
    assert results(asset)["No remote tools"] == ("fail", "Banned software installed: AnyDesk.")


def _finance_estate() -> tuple[Asset, Asset]:
    policy(PolicyKind.FIREWALL)
    policy(PolicyKind.BANNED_SOFTWARE, banned="*alert*")
    finance = people_factories.DepartmentFactory(name="Finance")
    good, _key = send(factories.report(hostname="good", serial="SN-G", nics=[]))
    bad, _key = send(
        factories.report(
            hostname="bad",
            serial="SN-B",
            nics=[],
            security={"firewall": "off"},
            software=[{"name": SCRIPT, "version": "1"}],
        )
    )
    for n, asset in enumerate((good, bad)):
        person = people_factories.UserFactory(username=f"f{n}", department=finance)
        Asset.objects.filter(pk=asset.pk).update(assigned_to=person, tag=f"FIN-{n}")
    return good, bad


def test_the_report_lists_failing_devices_and_shares_per_department_escaped(client, tier1):
    # given
    good, bad = _finance_estate()
    client.force_login(tier1)
    # when
    html = client.get("/assets/compliance/").content.decode()
    # then: the failing device with its reasons, the software name as text
    assert f'data-asset="{bad.pk}"' in html and f'data-asset="{good.pk}"' not in html
    assert "The agent reports the firewall off." in html
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "50%" in html and "1 of 2" in html
    # filters: unknown results, and a department with no devices
    unknown = client.get("/assets/compliance/", {"outcome": "pass"}).content.decode()
    assert f'data-asset="{good.pk}"' in unknown
    other = people_factories.DepartmentFactory(name="Sales")
    empty = client.get("/assets/compliance/", {"department": other.pk}).content.decode()
    assert "No devices match." in empty
    junk = client.get("/assets/compliance/", {"department": "x'", "days": "7", "outcome": "?"})
    assert junk.status_code == 200
    # the asset page shows its checks, escaped
    page = client.get(f"/assets/{bad.pk}/").content.decode()
    assert 'id="security-checks"' in page and 'data-result="fail"' in page
    assert SCRIPT not in page


def test_the_board_flags_failed_checks_from_the_policy_results(client, tier1):
    good, bad = _finance_estate()
    client.force_login(tier1)
    html = client.get("/assets/board/", {"health": "failed_checks"}).content.decode()
    assert f'data-asset="{bad.pk}"' in html and f'data-asset="{good.pk}"' not in html
    assert "failed: Firewall on, No banned software" in html
    SecurityPolicy.objects.update(enabled=False)
    html = client.get("/assets/board/", {"health": "failed_checks"}).content.decode()
    assert f'data-asset="{bad.pk}"' not in html


def test_the_trend_comes_from_daily_snapshots_over_30_or_90_days(client, tier1):
    # given: today's snapshot (1 of 2 compliant), and older ones written by hand
    _finance_estate()
    today = timezone.localdate()
    compliance.take_snapshot(day=today)
    finance = people_factories.DepartmentFactory(name="Finance")
    for days_ago, passed in ((10, 0), (60, 2)):
        ComplianceSnapshot.objects.create(
            day=today - timedelta(days=days_ago),
            department=finance,
            policy=None,
            devices=2,
            passed=passed,
            failed=2 - passed,
        )
    # when
    month = trend(department=finance.pk, policy_id=None, days=30, today=today)
    quarter = trend(department=None, policy_id=None, days=90, today=today)
    # then
    assert [(r["day"], r["share"]) for r in month] == [
        (today - timedelta(days=10), 0),
        (today, 50),
    ]
    assert [r["share"] for r in quarter] == [100, 0, 50]
    firewall = SecurityPolicy.objects.get(kind=PolicyKind.FIREWALL)
    per_policy = trend(department=finance.pk, policy_id=firewall.pk, days=30, today=today)
    assert [(r["devices"], r["passed"]) for r in per_policy] == [(2, 1)]
    # the page draws it
    client.force_login(tier1)
    html = client.get("/assets/compliance/", {"days": "90"}).content.decode()
    assert "<polyline" in html and 'id="compliance-trend"' in html
    assert (today - timedelta(days=60)).isoformat() in html
    html30 = client.get("/assets/compliance/", {"days": "30"}).content.decode()
    assert (today - timedelta(days=60)).isoformat() not in html30


def test_the_csv_export_has_the_results_with_the_filters_and_a_formula_guard(client, tier1):
    good, bad = _finance_estate()
    Asset.objects.filter(pk=bad.pk).update(tag="=HYPERLINK(1)")
    client.force_login(tier1)
    response = client.get("/assets/compliance/export.csv", {"outcome": "fail"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:7] == ["tag", "hostname", "type", "department", "policy", "severity", "result"]
    assert {(r[0], r[4], r[6]) for r in rows[1:]} == {
        ("'=HYPERLINK(1)", "Firewall on", "fail"),
        ("'=HYPERLINK(1)", "No banned software", "fail"),
    }
    assert all(r[3] == "Finance" for r in rows[1:])
    everything = client.get("/assets/compliance/export.csv")
    all_rows = list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode())))
    assert len(all_rows) == 1 + 4  # two devices, two policies


def test_the_agent_tells_when_updates_were_last_applied(tmp_path):
    log = tmp_path / "history.log"
    log.write_text("Start-Date: 2026-11-01\n")
    os.utime(log, (1_700_000_000, 1_700_000_000))  # 2023-11-14 22:13:20 UTC
    assert collect.last_update_at((str(tmp_path / "missing"), str(log))) == (
        "2023-11-14T22:13:00+00:00"
    )
    assert collect.last_update_at((str(tmp_path / "missing"),)) == ""


def test_a_policy_applies_only_to_its_asset_types_and_departments():
    # given: a policy for Finance laptops
    laptop = AssetType.objects.get_or_create(name="Laptop")[0]
    finance = people_factories.DepartmentFactory(name="Finance")
    scoped = policy(PolicyKind.FIREWALL)
    scoped.asset_types.add(laptop)
    scoped.departments.add(finance)
    asset, _key = send(factories.report(security={"firewall": "off"}))
    # then: not a Finance laptop, no result
    assert results(asset) == {}
    # when: a person makes it one (the edit evaluates it again)
    person = people_factories.UserFactory(username="fin", department=finance)
    services.update_asset(asset=asset, by=person, asset_type=laptop, assigned_to=person)
    assert results(asset)["Firewall on"][0] == "fail"
    # a policy turned off leaves the device's results
    SecurityPolicy.objects.update(enabled=False)
    compliance.evaluate_all()
    assert results(asset) == {}


def test_the_compliance_job_is_scheduled_and_writes_the_snapshot(
    django_capture_on_commit_callbacks,
):
    from tierline.assets import jobs
    from tierline.core.scheduler import Scheduler, registered_jobs

    policy(PolicyKind.FIREWALL)
    send(factories.report())
    assert jobs.COMPLIANCE in registered_jobs()
    with django_capture_on_commit_callbacks(execute=True):
        assert Scheduler([jobs.COMPLIANCE]).run_due() == ["assets-compliance"]
    today = ComplianceSnapshot.objects.get(day=timezone.localdate(), policy__isnull=True)
    assert (today.devices, today.passed, today.failed, today.unknown) == (1, 1, 0, 0)


def test_the_report_page_reads_a_constant_number_of_queries(client, tier1):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    policy(PolicyKind.FIREWALL)
    finance = people_factories.DepartmentFactory(name="Finance")
    client.force_login(tier1)

    def add(n: int) -> None:
        asset, _key = send(
            factories.report(
                hostname=f"h{n}", serial=f"SN-{n}", nics=[], security={"firewall": "off"}
            )
        )
        person = people_factories.UserFactory(username=f"p{n}", department=finance)
        Asset.objects.filter(pk=asset.pk).update(assigned_to=person)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/assets/compliance/").status_code == 200
        return len(queries)

    add(0)
    few = count()
    for n in range(1, 5):
        add(n)
    assert count() == few


def test_the_admin_lists_policies_operating_systems_and_approvals(client, admin_user):
    policy(PolicyKind.FIREWALL)
    os_row("Debian", "12", "12", "Debian 12 (bookworm)", "2028-06-30")
    ApprovedAccount.objects.create(name="root")
    client.force_login(admin_user)
    for path, shown in (
        ("securitypolicy", "Firewall on"),
        ("supportedos", "Debian 12 (bookworm)"),
        ("approvedaccount", "root"),
    ):
        response = client.get(f"/admin/assets/{path}/")
        assert response.status_code == 200 and shown in response.content.decode()
    edit = client.get(f"/admin/assets/securitypolicy/{SecurityPolicy.objects.get().pk}/change/")
    assert edit.status_code == 200

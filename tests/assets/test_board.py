"""The status board: every device, when its agent last reported, and its health flags."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.assets import factories
from tests.people import factories as people_factories
from tierline.assets import health
from tierline.assets.models import AssetType, Condition, Status

pytestmark = pytest.mark.django_db

THRESHOLDS = health.Thresholds(disk_free_percent=10, offline_hours=72, pending_updates=1)


def flags(**values) -> set[str]:
    values.setdefault("hardware", {})
    values.setdefault("security", {})
    values.setdefault("last_seen", timezone.now())
    found = health.flags_of(now=timezone.now(), thresholds=THRESHOLDS, **values)
    return {f.condition for f in found}


def test_health_flags_come_from_the_latest_report():
    disk = {"disks": [{"mount": "/", "total_bytes": 1000, "free_bytes": 99}]}
    assert flags(hardware=disk) == {Condition.DISK_FULL}
    assert flags(hardware={"disks": [{"total_bytes": 1000, "free_bytes": 100}]}) == set()
    assert flags(hardware={"disks": [{"total_bytes": 0, "free_bytes": 0}, "junk"]}) == set()
    old = timezone.now() - timedelta(hours=73)
    assert flags(last_seen=old) == {Condition.OFFLINE}
    assert flags(last_seen=None) == set()  # never reported is not "offline"
    assert flags(security={"pending_updates": 4}) == {Condition.PENDING_UPDATES}
    assert flags(security={"pending_updates": 0, "firewall": "unknown"}) == set()
    # failed checks are the security policies' results (assets.compliance), not raw posture
    assert flags(failed_checks=["Firewall on"]) == {Condition.FAILED_CHECKS}
    assert flags(security={"firewall": "off", "screen_lock": "on"}) == set()
    assert flags(security="junk", hardware=None) == set()


def test_the_board_shows_devices_with_their_flags_and_filters_them(client, tier1):
    # given
    leeds = people_factories.LocationFactory(name="Leeds")
    finance = people_factories.DepartmentFactory(name="Finance")
    accountant = people_factories.UserFactory(username="acc", department=finance)
    laptop = AssetType.objects.get_or_create(name="Laptop")[0]
    factories.device(tag="FULL-1", free_gib=10, location=leeds, asset_type=laptop)
    factories.device(tag="QUIET-1", seen_hours_ago=100, assigned_to=accountant)
    factories.firewall_policy()
    factories.device(tag="PATCH-1", security={"pending_updates": 7, "firewall": "off"})
    factories.device(tag="FINE-1")
    factories.device(tag="GONE-1", status=Status.DISPOSED)
    factories.asset(tag="DESK-CHAIR")  # no agent, a type the agent does not report
    client.force_login(tier1)
    # when
    html = client.get("/assets/board/").content.decode()
    # then
    assert "FULL-1" in html and "FINE-1" in html
    assert "GONE-1" not in html and "DESK-CHAIR" not in html
    assert 'data-flag="disk_full"' in html and "/ 2% free" in html
    assert 'data-flag="offline"' in html and 'data-flag="pending_updates"' in html
    assert "7 pending" in html and "failed: Firewall on" in html
    # filters
    by_location = client.get("/assets/board/", {"location": leeds.pk}).content.decode()
    assert "FULL-1" in by_location and "QUIET-1" not in by_location
    by_department = client.get("/assets/board/", {"department": finance.pk}).content.decode()
    assert "QUIET-1" in by_department and "FULL-1" not in by_department
    by_type = client.get("/assets/board/", {"type": laptop.pk}).content.decode()
    assert "FULL-1" in by_type and "FINE-1" not in by_type
    offline = client.get("/assets/board/", {"health": "offline"}).content.decode()
    assert "QUIET-1" in offline and "FULL-1" not in offline
    healthy = client.get("/assets/board/", {"health": "healthy"}).content.decode()
    assert "FINE-1" in healthy and "PATCH-1" not in healthy
    worst = client.get("/assets/board/", {"sort": "health"}).content.decode()
    assert worst.index("PATCH-1") < worst.index("FULL-1") < worst.index("FINE-1")


def test_the_board_pages_sorts_and_ignores_junk(client, tier1, settings):
    settings.TIERLINE = {**settings.TIERLINE, "PAGE_SIZE": 2}
    for n, hours in enumerate([5, 1, 3]):
        factories.device(tag=f"D-{n}", seen_hours_ago=hours)
    client.force_login(tier1)
    page1 = client.get("/assets/board/", {"sort": "-last_seen"}).content.decode()
    page2 = client.get("/assets/board/", {"sort": "-last_seen", "page": 2}).content.decode()
    assert page1.index("D-1") < page1.index("D-2") and "D-0" not in page1
    assert "D-0" in page2 and "Page 2 of 2" in page2
    junk = client.get(
        "/assets/board/", {"location": "x'", "health": "<b>", "sort": "pk;--", "page": "-1"}
    )
    assert junk.status_code == 200 and "D-2" in junk.content.decode()  # the last page


def test_an_empty_board_says_so(client, tier1):
    client.force_login(tier1)
    html = client.get("/assets/board/").content.decode()
    assert "No devices match." in html


def test_requesters_are_sent_to_the_portal(client, employee):
    client.force_login(employee)
    assert client.get("/assets/board/").status_code == 302


def test_the_board_costs_the_same_few_queries_for_many_devices(
    client, tier1, django_assert_max_num_queries
):
    for n in range(30):
        factories.device(tag=f"Q-{n}", free_gib=n)
    client.force_login(tier1)
    with django_assert_max_num_queries(12):
        assert client.get("/assets/board/").status_code == 200


def test_last_seen_is_the_latest_report_of_any_of_the_devices_agents(client, tier1):
    # given: the device was enrolled again and the new agent has not reported yet
    from tierline.assets.models import AgentDevice

    device = factories.device(tag="RE-1", seen_hours_ago=100)
    AgentDevice.objects.create(digest="f" * 64, prefix="new", asset=device, last_seen_at=None)
    client.force_login(tier1)
    html = client.get("/assets/board/", {"health": "offline"}).content.decode()
    assert "RE-1" in html

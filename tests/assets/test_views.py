"""The asset list and page, and the assets' panels on the ticket page."""

from __future__ import annotations

import pytest

from tests.assets import factories
from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.assets import services
from tierline.assets.models import AssetType, Status

pytestmark = pytest.mark.django_db


def test_the_list_filters_sorts_and_pages(client, tier1, settings):
    settings.TIERLINE = {**settings.TIERLINE, "PAGE_SIZE": 2}
    laptop = AssetType.objects.get_or_create(name="Laptop")[0]
    for n in range(3):
        factories.asset(tag=f"LT-{n}", asset_type=laptop, status=Status.DEPLOYED)
    factories.asset(tag="PR-1", status=Status.IN_STOCK)
    client.force_login(tier1)
    # when
    page1 = client.get("/assets/", {"type": laptop.pk, "sort": "-tag"}).content.decode()
    page2 = client.get("/assets/", {"type": laptop.pk, "sort": "-tag", "page": 2}).content.decode()
    stocked = client.get("/assets/", {"status": "in_stock"}).content.decode()
    # then
    assert page1.index("LT-2") < page1.index("LT-1") and "LT-0" not in page1
    assert "LT-0" in page2 and "PR-1" not in page2
    assert "PR-1" in stocked and "LT-1" not in stocked


def test_junk_filters_give_the_whole_list_not_an_error(client, tier1):
    factories.asset(tag="LT-1")
    client.force_login(tier1)
    response = client.get(
        "/assets/", {"type": "x'", "status": "<b>", "sort": "pk;--", "page": "-4"}
    )
    assert response.status_code == 200 and "LT-1" in response.content.decode()


def test_requesters_are_sent_to_the_portal(client, employee):
    client.force_login(employee)
    assert client.get("/assets/").status_code == 302


def test_the_asset_page_changes_status_and_links_a_ticket(client, tier1, employee):
    asset = factories.asset(tag="LT-7", status=Status.IN_STOCK)
    ticket = desk_factories.ticket(requester=employee)
    client.force_login(tier1)
    client.post(f"/assets/{asset.pk}/status", {"status": "deployed"})
    client.post(f"/assets/{asset.pk}/tickets", {"ticket": ticket.number})
    html = client.get(f"/assets/{asset.pk}/").content.decode()
    assert "Deployed" in html and ticket.number in html
    refused = client.post(f"/assets/{asset.pk}/status", {"status": "ordered"}, follow=True)
    assert "cannot become ordered" in refused.content.decode()


def test_the_ticket_page_shows_the_requesters_devices_and_linked_assets(client, tier1):
    requester = people_factories.UserFactory(username="rita")
    mine = factories.asset(tag="LT-RITA", assigned_to=requester, status=Status.DEPLOYED)
    other = factories.asset(tag="SW-FLOOR2")
    ticket = desk_factories.ticket(requester=requester)
    services.link_ticket(asset=other, ticket=ticket, by=tier1)
    client.force_login(tier1)
    html = client.get(f"/desk/tickets/{ticket.number}/").content.decode()
    assert 'data-panel="assets.requester_devices"' in html and str(mine) in html
    assert 'data-panel="assets.ticket_assets"' in html and str(other) in html


def test_the_asset_page_shows_the_work_orders_and_calls_of_its_tickets(
    client, tier1, lead, employee
):
    """Issue 12 point 2: an asset's page shows its tickets, work orders, changes and history;
    work orders and calls reach it through its linked tickets, escaped."""
    from tierline.desk import services as desk_services
    from tierline.desk.models import Call

    asset = factories.asset(tag="LT-9")
    ticket = desk_factories.ticket(requester=employee, subject="Screen <flickers> & dies")
    other = desk_factories.ticket(requester=employee, subject="Unlinked")
    services.link_ticket(asset=asset, ticket=ticket, by=tier1)
    visit = desk_factories.work_order(ticket, by=lead)
    elsewhere = desk_factories.work_order(other, by=lead)
    desk_services.log_call(
        by=tier1,
        outcome=Call.Outcome.EXISTING_TICKET,
        caller=employee,
        ticket=ticket,
        notes="rang about it",
    )
    client.force_login(tier1)
    html = client.get(f"/assets/{asset.pk}/").content.decode()
    assert visit.number in html and elsewhere.number not in html
    assert "No calls on its tickets" not in html and str(employee) in html
    assert "Screen &lt;flickers&gt; &amp; dies" in html


def test_an_asset_without_tickets_says_it_has_no_work_orders_or_calls(client, tier1):
    asset = factories.asset(tag="LT-10")
    client.force_login(tier1)
    html = client.get(f"/assets/{asset.pk}/").content.decode()
    assert "No work orders on its tickets." in html and "No calls on its tickets." in html


def _change(asset, kind: str, item: str, *, days_ago: float = 0, before="", after=""):
    from datetime import timedelta

    from django.utils import timezone

    from tierline.assets.models import SystemChange

    return SystemChange.objects.create(
        asset=asset,
        kind=kind,
        item=item,
        before=before,
        after=after,
        seen_at=timezone.now() - timedelta(days=days_ago),
    )


def test_the_asset_page_shows_its_change_log_filtered_by_kind_and_paged(client, tier1):
    # given
    from tierline.assets import views

    asset = factories.asset(tag="LT-9")
    other = factories.asset(tag="LT-10")
    for n in range(views.CHANGE_LOG_PAGE_SIZE + 1):
        _change(asset, "software_installed", f"pkg-{n:03d}", after="1.0", days_ago=n / 100)
    _change(asset, "os", "operating system", before="Debian 12", after="Debian 13", days_ago=3)
    _change(other, "software_removed", "not-mine")
    client.force_login(tier1)
    # when
    first = client.get(f"/assets/{asset.pk}/").content.decode()
    second = client.get(f"/assets/{asset.pk}/", {"changes": 2}).content.decode()
    os_only = client.get(f"/assets/{asset.pk}/", {"kind": "os"}).content.decode()
    junk = client.get(f"/assets/{asset.pk}/", {"kind": "<x>", "changes": "'"})
    # then: newest first, 50 a page, the kind's label, before -> after
    assert "pkg-000" in first and "pkg-049" in first and "pkg-050" not in first
    assert "not-mine" not in first and "Software installed" in first
    assert "pkg-050" in second and "Debian 13" in second
    assert "Debian 12" in os_only and "Debian 13" in os_only and "pkg-000" not in os_only
    assert junk.status_code == 200


def test_the_estate_change_log_filters_by_kind_time_and_text(client, tier1):
    # given
    web = factories.asset(tag="SRV-WEB", hostname="web-01")
    desk = factories.asset(tag="LT-1", hostname="laptop-1")
    _change(web, "software_upgraded", "openssl", before="3.0.1", after="3.0.2")
    _change(desk, "software_installed", "steam", after="1.0")
    _change(desk, "disk_added", "/data", after="512 GiB", days_ago=20)
    client.force_login(tier1)
    # when
    week = client.get("/assets/changes/").content.decode()
    month = client.get("/assets/changes/", {"since": "30"}).content.decode()
    upgrades = client.get("/assets/changes/", {"kind": "software_upgraded"}).content.decode()
    by_package = client.get("/assets/changes/", {"q": "STEAM"}).content.decode()
    by_host = client.get("/assets/changes/", {"q": "web-0", "since": "all"}).content.decode()
    # then
    assert "openssl" in week and "steam" in week and "/data" not in week
    assert "/data" in month and "512 GiB" in month
    assert "openssl" in upgrades and "steam" not in upgrades
    assert "steam" in by_package and "openssl" not in by_package
    assert "openssl" in by_host and "steam" not in by_host


def test_the_estate_change_log_takes_junk_filters_and_shows_text_escaped(client, tier1):
    asset = factories.asset(tag="LT-1")
    _change(asset, "software_installed", "<script>alert(1)</script>", after="<b>1</b>")
    client.force_login(tier1)
    response = client.get(
        "/assets/changes/", {"kind": "x'--", "since": "9999999", "page": "-1", "q": "a" * 500}
    )
    assert response.status_code == 200
    html = client.get("/assets/changes/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>1</b>" not in html


def test_the_estate_change_log_reads_a_constant_number_of_queries(
    client, tier1, django_assert_max_num_queries
):
    for n in range(30):
        _change(factories.asset(tag=f"LT-{n}"), "software_installed", f"pkg-{n}")
    client.force_login(tier1)
    with django_assert_max_num_queries(12):
        assert client.get("/assets/changes/").status_code == 200


def test_requesters_cannot_see_the_estate_change_log(client, employee):
    client.force_login(employee)
    assert client.get("/assets/changes/").status_code == 302

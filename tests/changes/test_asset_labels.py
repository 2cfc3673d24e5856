"""A change's assets by name (core.labels: the assets app answers for "assets.asset"), and an
asset's page lists its changes (the changes app's panel in the `assets.asset.side` slot)."""

from __future__ import annotations

import pytest

from tests.assets import factories as asset_factories
from tests.changes.factories import change
from tierline.assets.models import Asset
from tierline.changes import queries, services
from tierline.core.history import history_of

pytestmark = pytest.mark.django_db


def test_a_change_names_its_assets_with_links_and_says_when_one_is_gone(client, tier1):
    laptop = asset_factories.asset(tag="LT-<9>", hostname="laptop-9")
    gone = asset_factories.asset(tag="OLD-1")
    c = change(tier1, title="Reimage laptops")
    services.link_asset(change=c, asset_id=laptop.pk, by=tier1)
    services.link_asset(change=c, asset_id=gone.pk, by=tier1)
    gone_id = gone.pk
    Asset.objects.filter(pk=gone_id).delete()
    # when
    linked = queries.linked_assets(c)
    client.force_login(tier1)
    page = client.get(f"/changes/{c.pk}/").content.decode()
    # then
    assert [(pk, label.text if label else None) for pk, label in linked] == [
        (laptop.pk, "LT-<9>"),
        (gone_id, None),
    ]
    assert f'<a href="/assets/{laptop.pk}/">LT-&lt;9&gt;</a>' in page
    assert "laptop-9" in page
    assert f'Asset #{gone_id} <span class="muted">(no longer in the inventory)</span>' in page
    assert f"Asset #{laptop.pk} (LT-<9>)" in [h.summary for h in history_of(c)]


def test_linking_an_asset_that_does_not_exist_is_refused_on_the_page(client, tier1):
    c = change(tier1)
    client.force_login(tier1)
    response = client.post(f"/changes/{c.pk}/assets", {"asset": "987654"}, follow=True)
    assert "There is no asset #987654." in response.content.decode()
    assert queries.linked_asset_ids(c) == []


def test_an_asset_page_lists_its_changes(client, tier1):
    laptop = asset_factories.asset(tag="LT-5")
    mine = change(tier1, title="Swap the <disk>")
    change(tier1, title="Not about this laptop")
    services.link_asset(change=mine, asset_id=laptop.pk, by=tier1)
    client.force_login(tier1)
    html = client.get(f"/assets/{laptop.pk}/").content.decode()
    assert 'data-panel="changes.asset_changes"' in html
    assert mine.number in html and "Swap the &lt;disk&gt;" in html
    assert "Not about this laptop" not in html


def test_the_api_shows_a_changes_assets_by_name_with_links(api, tier1, employee):
    from tests.desk import factories as desk_factories

    laptop = asset_factories.asset(tag="LT-3", hostname="laptop-3")
    c = change(tier1, title="Reimage")
    services.link_asset(change=c, asset_id=laptop.pk, by=tier1)
    ticket = desk_factories.ticket(requester=employee)
    services.link_ticket(change=c, ticket=ticket, by=tier1)
    change(tier1, title="Another")
    # when
    listed = api(tier1).get("/api/v1/changes/")
    one = api(tier1).get(f"/api/v1/changes/{c.pk}/")
    # then
    assert listed.status_code == 200 and one.status_code == 200
    assert [r["title"] for r in listed.json()["results"]] == ["Another", "Reimage"]
    expected = [
        {"id": laptop.pk, "label": "LT-3", "detail": "laptop-3", "url": f"/assets/{laptop.pk}/"}
    ]
    assert listed.json()["results"][1]["assets"] == expected == one.json()["assets"]
    assert one.json()["tickets"] == [ticket.number] and one.json()["number"] == c.number
    # a requester is not the help desk
    assert api(employee).get("/api/v1/changes/").status_code == 403

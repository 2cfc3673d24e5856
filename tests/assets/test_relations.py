"""Relations between assets: shown both ways, never to itself or twice, cycles only where they
make sense (connections and dependencies, not containment), edited on the page and the admin."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.assets import factories
from tierline.assets import relations
from tierline.assets.models import AssetRelation, RelationKind
from tierline.core.history import history_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate():
    return {
        name: factories.asset(tag=tag, hostname=host)
        for name, tag, host in [
            ("office", "SW-OFFICE", ""),
            ("laptop", "LT-1", "laptop-1"),
            ("switch", "NET-1", "sw-floor2"),
            ("core", "NET-0", "sw-core"),
            ("monitor", "MON-1", ""),
            ("desk", "DESK-2-14", ""),
        ]
    }


def test_a_relation_is_shown_both_ways_and_written_to_both_histories(estate, tier1):
    relations.add_relation(
        from_asset=estate["office"], to_asset=estate["laptop"], kind="installed_on", by=tier1
    )
    assert [(r.label, r.other.tag) for r in relations.relations_of(estate["office"])] == [
        ("is installed on", "LT-1")
    ]
    assert [(r.label, r.other.tag) for r in relations.relations_of(estate["laptop"])] == [
        ("has installed", "SW-OFFICE")
    ]
    assert history_of(estate["office"]).filter(summary="is installed on LT-1").exists()
    assert history_of(estate["laptop"]).filter(summary="has installed SW-OFFICE").exists()


def test_an_asset_is_never_related_to_itself(estate, tier1):
    with pytest.raises(relations.RelationError, match="itself"):
        relations.add_relation(
            from_asset=estate["laptop"], to_asset=estate["laptop"], kind="depends_on", by=tier1
        )
    # and the database says so too
    with pytest.raises(IntegrityError), transaction.atomic():
        AssetRelation.objects.create(
            from_asset=estate["laptop"], to_asset=estate["laptop"], kind="part_of"
        )


def test_the_same_relation_is_refused_twice_and_a_connection_either_way_is_the_same(estate, tier1):
    relations.add_relation(
        from_asset=estate["laptop"], to_asset=estate["switch"], kind="connected_to", by=tier1
    )
    for first, second in (("laptop", "switch"), ("switch", "laptop")):
        with pytest.raises(relations.RelationError, match="already"):
            relations.add_relation(
                from_asset=estate[first], to_asset=estate[second], kind="connected_to", by=tier1
            )
    assert AssetRelation.objects.count() == 1
    # another kind between the same two is a different fact
    relations.add_relation(
        from_asset=estate["laptop"], to_asset=estate["switch"], kind="depends_on", by=tier1
    )
    assert AssetRelation.objects.count() == 2


@pytest.mark.parametrize("kind", ["installed_on", "attached_to", "part_of"])
def test_containment_may_not_go_round_in_a_circle(estate, tier1, kind):
    chain = ["monitor", "laptop", "desk"]
    for first, second in zip(chain, chain[1:], strict=False):
        relations.add_relation(
            from_asset=estate[first], to_asset=estate[second], kind=kind, by=tier1
        )
    with pytest.raises(relations.RelationError, match="circle"):
        relations.add_relation(
            from_asset=estate["desk"], to_asset=estate["monitor"], kind=kind, by=tier1
        )
    assert AssetRelation.objects.count() == 2


@pytest.mark.parametrize("kind", ["connected_to", "depends_on"])
def test_connections_and_dependencies_may_form_a_circle(estate, tier1, kind):
    ring = ["switch", "core", "laptop"]
    for first, second in zip(ring, [*ring[1:], ring[0]], strict=False):
        relations.add_relation(
            from_asset=estate[first], to_asset=estate[second], kind=kind, by=tier1
        )
    assert AssetRelation.objects.filter(kind=kind).count() == 3


def test_removing_a_relation_from_either_end_writes_both_histories(estate, tier1):
    relation = relations.add_relation(
        from_asset=estate["monitor"], to_asset=estate["desk"], kind="part_of", by=tier1
    )
    assert relations.remove_relation(relation_id=relation.pk, asset=estate["desk"], by=tier1)
    assert not AssetRelation.objects.exists()
    assert history_of(estate["monitor"]).filter(action="relation removed").count() == 1
    assert history_of(estate["desk"]).filter(action="relation removed").count() == 1
    # a relation of other assets is not removed through this one
    other = relations.add_relation(
        from_asset=estate["laptop"], to_asset=estate["switch"], kind="connected_to", by=tier1
    )
    assert not relations.remove_relation(relation_id=other.pk, asset=estate["desk"], by=tier1)
    assert AssetRelation.objects.count() == 1


def test_the_asset_page_adds_either_way_and_shows_both_ways(client, tier1, estate):
    client.force_login(tier1)
    laptop, monitor, switch = estate["laptop"], estate["monitor"], estate["switch"]
    # when: "the monitor is attached to this laptop", said on the laptop's page, by tag
    response = client.post(
        f"/assets/{laptop.pk}/relations", {"relation": "~attached_to", "other": "mon-1"}
    )
    assert response.status_code == 302
    # and: "this laptop is connected to" the switch, by hostname
    client.post(
        f"/assets/{laptop.pk}/relations", {"relation": "connected_to", "other": "sw-floor2"}
    )
    # then
    assert AssetRelation.objects.filter(
        from_asset=monitor, to_asset=laptop, kind=RelationKind.ATTACHED_TO
    ).exists()
    html = client.get(f"/assets/{laptop.pk}/").content.decode()
    assert "This asset has attached <a" in html and "MON-1" in html
    assert "This asset is connected to <a" in html and "NET-1" in html
    html = client.get(f"/assets/{switch.pk}/").content.decode()
    assert "This asset is connected to <a" in html and "LT-1" in html
    html = client.get(f"/assets/{monitor.pk}/").content.decode()
    assert "This asset is attached to <a" in html


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"relation": "owns", "other": "LT-1"}, "Choose how the assets are related."),
        ({"relation": "part_of", "other": "NOPE-9"}, "No asset “NOPE-9”"),
        ({"relation": "part_of", "other": "MON-1"}, "itself"),
        ({"relation": "part_of", "other": "\x00"}, "No asset"),
    ],
)
def test_the_asset_page_refuses_bad_relations_with_400(client, tier1, estate, form, message):
    client.force_login(tier1)
    response = client.post(f"/assets/{estate['monitor'].pk}/relations", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AssetRelation.objects.exists()


def test_the_admin_adds_through_the_rules_and_refuses_a_circle(admin_client, estate):
    url = "/admin/assets/assetrelation/add/"
    monitor, laptop = estate["monitor"], estate["laptop"]
    response = admin_client.post(
        url, {"from_asset": monitor.pk, "kind": "attached_to", "to_asset": laptop.pk}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert history_of(laptop).filter(action="relation added").exists()
    response = admin_client.post(
        url, {"from_asset": laptop.pk, "kind": "attached_to", "to_asset": monitor.pk}
    )
    assert response.status_code == 200 and "circle" in response.content.decode()
    assert AssetRelation.objects.count() == 1

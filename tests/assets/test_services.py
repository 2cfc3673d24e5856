"""The lifecycle and ticket links: one history entry each, refusals with reasons."""

from __future__ import annotations

import pytest

from tests.assets import factories
from tests.desk import factories as desk_factories
from tierline.assets import services
from tierline.assets.models import Status
from tierline.core.history import history_of

pytestmark = pytest.mark.django_db


def test_status_moves_along_the_lifecycle_with_one_history_entry_each(tier1):
    # given
    asset = factories.asset(tag="LT-001", status=Status.IN_STOCK)
    # when
    services.set_status(asset=asset, status=Status.DEPLOYED, by=tier1, note="given to Erin")
    services.set_status(asset=asset, status=Status.IN_REPAIR, by=tier1)
    # then
    entries = [(h.action, h.old_value, h.new_value) for h in history_of(asset)]
    assert entries == [
        ("status changed", "In stock", "Deployed"),
        ("status changed", "Deployed", "In repair"),
    ]
    asset.refresh_from_db()
    assert asset.status == Status.IN_REPAIR


def test_a_disposed_asset_goes_nowhere_and_a_skipped_step_is_refused(tier1):
    asset = factories.asset(tag="LT-002", status=Status.ORDERED)
    with pytest.raises(services.AssetError, match="ordered cannot become deployed"):
        services.set_status(asset=asset, status=Status.DEPLOYED, by=tier1)
    asset = factories.asset(tag="LT-003", status=Status.DISPOSED)
    with pytest.raises(services.AssetError):
        services.set_status(asset=asset, status=Status.IN_STOCK, by=tier1)
    assert history_of(asset).count() == 0


def test_a_taken_tag_is_refused_with_a_message(tier1):
    services.create_asset(by=tier1, tag="LT-9")
    with pytest.raises(services.AssetError, match="taken"):
        services.create_asset(by=tier1, tag="LT-9")


def test_update_writes_one_entry_per_changed_field(tier1):
    asset = services.create_asset(by=tier1, tag="LT-10", make="Dell")
    services.update_asset(asset=asset, by=tier1, make="Dell", model="Latitude", supplier="ACME")
    fields = [h.field for h in history_of(asset) if h.action == "changed"]
    assert sorted(fields) == ["model", "supplier"]


def test_linking_a_ticket_twice_links_it_once(employee, tier1):
    asset = factories.asset(tag="LT-11")
    ticket = desk_factories.ticket(requester=employee)
    assert services.link_ticket(asset=asset, ticket=ticket, by=tier1) is True
    assert services.link_ticket(asset=asset, ticket=ticket, by=tier1) is False
    assert [h.summary for h in history_of(asset)] == [ticket.number]

"""Assets in Configuration: saved through the services, so each change is on the record."""

from __future__ import annotations

import pytest

from tests.assets import factories
from tierline.assets.models import Asset
from tierline.core.history import history_of

pytestmark = pytest.mark.django_db


def test_adding_and_editing_an_asset_in_the_admin_writes_history(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/assets/asset/add/",
        {
            "tag": "LT-100",
            "make": "Dell",
            "hostname": "",
            "serial": "",
            "model": "",
            "supplier": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    asset = Asset.objects.get(tag="LT-100")
    client.post(
        f"/admin/assets/asset/{asset.pk}/change/",
        {
            "tag": "LT-100",
            "make": "Dell",
            "model": "Latitude 5440",
            "hostname": "",
            "serial": "",
            "supplier": "",
        },
    )
    assert [(h.action, h.field) for h in history_of(asset)] == [
        ("created", ""),
        ("changed", "model"),
    ]


def test_the_admin_lists_assets(client, admin_user):
    factories.asset(tag="LT-1", hostname="<b>host</b>")
    client.force_login(admin_user)
    html = client.get("/admin/assets/asset/").content.decode()
    assert "LT-1" in html and "<b>host</b>" not in html


def test_a_control_character_is_refused_next_to_its_field_not_a_500(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/assets/asset/add/",
        {"tag": "LT\x07", "make": "", "hostname": "", "serial": "", "model": "", "supplier": ""},
    )
    assert response.status_code == 200
    assert (
        "can&#x27;t be stored" in response.content.decode()
        or "be stored" in response.content.decode()
    )
    assert not Asset.objects.exists()

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


# ---- the change log (SystemChange): read only --------------------------------------------------

CHANGES = "/admin/assets/systemchange/"


def _listed(client, **params) -> list[str]:
    response = client.get(CHANGES, params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return [change.item for change in response.context["cl"].result_list]


@pytest.fixture
def change_log():
    from datetime import timedelta

    from django.utils import timezone

    from tierline.assets.models import ChangeKind

    laptop = factories.asset(tag="LT-7", hostname="laptop-seven")
    server = factories.asset(tag="SRV-2", hostname="db-two")
    long_ago = timezone.now() - timedelta(days=40)
    factories.system_change(laptop, ChangeKind.SOFTWARE_INSTALLED, "vim", after="9.1")
    factories.system_change(laptop, ChangeKind.DISK_ADDED, "/data", after="2 TiB", seen_at=long_ago)
    factories.system_change(server, ChangeKind.MEMORY, "ram", before="16 GiB", after="32 GiB")
    return laptop, server


def test_the_change_log_is_listed_and_filtered_by_kind_asset_and_date(
    client, admin_user, change_log
):
    laptop, server = change_log
    client.force_login(admin_user)
    assert sorted(_listed(client)) == ["/data", "ram", "vim"]
    assert _listed(client, kind="memory") == ["ram"]
    assert sorted(_listed(client, asset=laptop.pk)) == ["/data", "vim"]
    # the asset filter offers the assets of the latest changes
    html = client.get(CHANGES).content.decode()
    assert f"?asset={laptop.pk}" in html and f"?asset={server.pk}" in html
    # the last 7 days (the date filter's own parameters)
    from datetime import timedelta
    from urllib.parse import urlencode

    from django.utils import timezone

    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    week = {
        "seen_at__gte": str(today - timedelta(days=7)),
        "seen_at__lt": str(today + timedelta(days=1)),
    }
    assert urlencode({"seen_at__gte": week["seen_at__gte"]}) in html  # its "Past 7 days" link

    assert sorted(_listed(client, **week)) == ["ram", "vim"]
    # an asset id no database holds, or not a number: nothing matches, not a 500
    assert _listed(client, asset="9" * 30) == []
    assert _listed(client, asset="LT-7") == []


def test_the_change_log_is_searched_by_tag_hostname_and_text(client, admin_user, change_log):
    client.force_login(admin_user)
    assert sorted(_listed(client, q="lt-7")) == ["/data", "vim"]  # a tag, any case
    assert _listed(client, q="db-") == ["ram"]  # a hostname's beginning
    assert _listed(client, q="32 GiB") == ["ram"]  # what changed
    assert _listed(client, q="vim") == ["vim"]


def test_nobody_adds_changes_or_deletes_a_change_in_the_admin(client, admin_user, change_log):
    from tierline.assets.models import SystemChange

    # given: a superuser, who has every permission a model grants
    client.force_login(admin_user)
    change = SystemChange.objects.get(item="vim")
    # when / then
    assert client.get(f"{CHANGES}add/").status_code == 403
    page = client.get(f"{CHANGES}{change.pk}/change/")
    assert page.status_code == 200 and 'name="item"' not in page.content.decode()
    edited = client.post(f"{CHANGES}{change.pk}/change/", {"item": "emacs", "kind": "memory"})
    assert edited.status_code == 403
    assert client.post(f"{CHANGES}{change.pk}/delete/", {"post": "yes"}).status_code == 403
    change.refresh_from_db()
    assert change.item == "vim" and SystemChange.objects.count() == 3

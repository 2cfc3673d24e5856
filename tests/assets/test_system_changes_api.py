"""`GET /api/v1/system-changes/`: the estate's change log for the help desk, read only; the
filters (asset, kind, since) refuse bad input with a 400 naming the field, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from tests.assets import factories
from tierline.assets import lists
from tierline.assets.models import ChangeKind, SystemChange

pytestmark = pytest.mark.django_db

URL = "/api/v1/system-changes/"


@pytest.fixture
def log():
    """Two devices, four changes over three days."""
    now = timezone.now()
    laptop = factories.asset(tag="LT-1", hostname="laptop-1")
    server = factories.asset(tag="SRV-1", hostname="db-1")
    rows = {
        "old": factories.system_change(
            laptop, ChangeKind.INVENTORIED, after="1,200 packages", seen_at=now - timedelta(days=3)
        ),
        "vim": factories.system_change(
            laptop, ChangeKind.SOFTWARE_INSTALLED, "vim", after="9.1", seen_at=now - timedelta(1)
        ),
        "memory": factories.system_change(
            server, ChangeKind.MEMORY, before="16 GiB", after="32 GiB", seen_at=now - timedelta(1)
        ),
        "kernel": factories.system_change(
            laptop, ChangeKind.KERNEL, before="6.1.0-17", after="6.1.0-18", seen_at=now
        ),
    }
    return laptop, server, rows


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_a_technician_reads_the_log_newest_first_with_each_rows_asset(api, tier1, log):
    # given
    laptop, _server, rows = log
    # when
    response = api(tier1).get(URL)
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    kernel, memory, vim, old = rows["kernel"], rows["memory"], rows["vim"], rows["old"]
    # memory and vim were seen at the same moment: the later row first (the id breaks the tie)
    assert ids(response) == [kernel.pk, *sorted([memory.pk, vim.pk], reverse=True), old.pk]
    first = body["results"][0]
    assert first == {
        "id": kernel.pk,
        "asset": laptop.pk,
        "asset_tag": "LT-1",
        "asset_hostname": "laptop-1",
        "asset_url": f"/assets/{laptop.pk}/",
        "kind": "kernel",
        "item": "",
        "before": "6.1.0-17",
        "after": "6.1.0-18",
        "seen_at": first["seen_at"],
        "sequence": 0,
    }


def test_the_filters_asset_kind_and_since_narrow_the_log(api, tier1, log):
    laptop, server, rows = log
    client = api(tier1)
    assert ids(client.get(URL, {"asset": server.pk})) == [rows["memory"].pk]
    assert ids(client.get(URL, {"kind": "software_installed"})) == [rows["vim"].pk]
    since = (timezone.now() - timedelta(days=2)).isoformat()
    assert rows["old"].pk not in ids(client.get(URL, {"since": since}))
    assert len(ids(client.get(URL, {"since": since}))) == 3
    both = client.get(URL, {"asset": laptop.pk, "kind": "kernel", "since": since})
    assert ids(both) == [rows["kernel"].pk]
    # a date alone is its midnight; an asset with no changes is an empty page, not an error
    assert len(ids(client.get(URL, {"since": "1999-01-01"}))) == 4
    nothing = factories.asset(tag="EMPTY-1")
    assert client.get(URL, {"asset": nothing.pk}).json()["results"] == []


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"kind": "teleported"}, "kind", "not one of the available choices"),
        ({"asset": "LT-1"}, "asset", "whole number"),
        ({"asset": "0"}, "asset", "greater than or equal to 1"),
        ({"asset": "9" * 30}, "asset", "less than or equal to"),
        ({"asset": "1.5"}, "asset", "whole number"),
        ({"since": "yesterday"}, "since", "valid date/time"),
        ({"since": "2026-13-45T00:00:00"}, "since", "valid date/time"),
        ({"since": "0001-01-01T00:00:00+14:00"}, "since", "between 1970 and 2999"),
        ({"since": "9999-12-31T23:59:59-14:00"}, "since", "between 1970 and 2999"),
        ({"since": "2026-11-30\x00"}, "since", "valid date/time"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field_never_a_500(
    api, tier1, log, params, field, message
):
    response = api(tier1).get(URL, params)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert list(errors) == [field]
    assert message in " ".join(errors[field])


def test_a_bad_page_is_a_404_and_the_pages_link_to_each_other(api, tier1, settings):
    # given: more changes than a page
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "PAGE_SIZE": 2}
    asset = factories.asset(tag="LT-9")
    made = [
        factories.system_change(asset, ChangeKind.SOFTWARE_INSTALLED, f"p{n}") for n in range(3)
    ]
    client = api(tier1)
    # when
    first = client.get(URL)
    # then
    assert ids(first) == [made[2].pk, made[1].pk]
    second = client.get(first.json()["next"])
    assert ids(second) == [made[0].pk]
    assert second.json()["next"] is None and second.json()["previous"] is not None
    assert client.get(URL, {"page": "x"}).status_code == 404
    assert client.get(URL, {"page": "500"}).status_code == 404


def test_requesters_and_strangers_cannot_read_the_log(api, employee, log):
    assert api(employee).get(URL).status_code == 403
    assert api(None).get(URL).status_code == 401


def test_the_log_is_read_only(api, tier1, log):
    client = api(tier1)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(URL, {}, format="json").status_code == 405
    assert SystemChange.objects.count() == 4


def test_a_page_costs_the_same_few_queries_however_many_assets(
    api, tier1, django_assert_max_num_queries
):
    # given: fifty changes on fifty devices
    for n in range(50):
        asset = factories.asset(tag=f"Q-{n}", hostname=f"q-{n}")
        factories.system_change(asset, ChangeKind.HOSTNAME, before="old", after=f"q-{n}")
    client = api(tier1)
    client.get(URL)  # the token's first use
    # when / then: the token, the ids, the rows with their assets
    with django_assert_max_num_queries(6):
        response = client.get(URL)
    assert len(response.json()["results"]) == 50


@pytest.mark.skipif(connection.vendor != "postgresql", reason="asks PostgreSQL for its plans")
def test_every_filter_reads_a_page_along_an_index(tier1, log):
    # given: the statistics a live database has
    laptop, _server, _rows = log
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    since = "2026-01-01T00:00:00Z"
    sorted_plans = []
    for query in (
        "",
        f"asset={laptop.pk}",
        "kind=memory",
        f"since={since}",
        f"asset={laptop.pk}&kind=os",
    ):
        # when: the page's ids, with sorting priced out (a Sort left means no index serves it)
        queryset, _ = lists.SYSTEM_CHANGES.filter(tier1, QueryDict(query), strict=True)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_incremental_sort = off")
            sql, params = queryset.values_list("pk", flat=True)[:51].query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        # then
        if "Sort" in plan:
            sorted_plans.append(f"?{query}:\n{plan}")
    assert not sorted_plans, "\n\n".join(sorted_plans)

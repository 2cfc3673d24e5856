"""The asset list as CSV: the list's filters, streamed, spreadsheet formulas defused, and text
(`<`, `&`, line breaks) that comes back as it went out."""

from __future__ import annotations

import csv
import io

import pytest

from tests.assets import factories
from tests.people import factories as people_factories
from tierline.assets.models import AssetType, Status

pytestmark = pytest.mark.django_db


def _rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body, newline="")))


def test_the_export_keeps_the_lists_filters_and_order(client, tier1):
    # given
    laptop = AssetType.objects.get_or_create(name="Laptop")[0]
    office = people_factories.LocationFactory(name="Leeds")
    factories.asset(tag="LT-1", asset_type=laptop, location=office, status=Status.DEPLOYED)
    factories.asset(tag="LT-2", asset_type=laptop, status=Status.DEPLOYED)
    factories.asset(tag="PR-1", status=Status.IN_STOCK)
    client.force_login(tier1)
    # when
    everything = client.get("/assets/export.csv", {"sort": "-tag"})
    laptops = client.get("/assets/export.csv", {"type": laptop.pk, "location": office.pk})
    # then
    assert everything.streaming and everything["Content-Type"].startswith("text/csv")
    assert "attachment" in everything["Content-Disposition"]
    assert [r["tag"] for r in _rows(everything)] == ["PR-1", "LT-2", "LT-1"]
    rows = _rows(laptops)
    assert [(r["tag"], r["type"], r["location"], r["status"]) for r in rows] == [
        ("LT-1", "Laptop", "Leeds", "deployed")
    ]


def test_cells_a_spreadsheet_would_run_get_a_quote(client, tier1):
    for n, text in enumerate(['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "ok;=1+1"]):
        factories.asset(tag=f"T-{n}", make=text)
    factories.asset(tag="T-plain", make="Dell")
    client.force_login(tier1)
    makes = {r["tag"]: r["make"] for r in _rows(client.get("/assets/export.csv"))}
    assert makes["T-0"] == '\'=HYPERLINK("http://x")'
    assert makes["T-1"] == "'+1" and makes["T-2"] == "'-2" and makes["T-3"] == "'@SUM(A1)"
    assert makes["T-4"] == "'ok;=1+1"
    assert makes["T-plain"] == "Dell"


def test_angle_brackets_ampersands_and_line_breaks_round_trip(client, tier1):
    # given: text as typed (a line break can only come from outside the forms)
    factories.asset(tag="RT-1", make="<b>Dell & Sons</b>", model='Line one\nline "two"')
    client.force_login(tier1)
    # when
    (row,) = _rows(client.get("/assets/export.csv"))
    # then
    assert row["make"] == "<b>Dell & Sons</b>"
    assert row["model"] == 'Line one\nline "two"'


def test_requesters_cannot_export(client, employee):
    factories.asset(tag="LT-1")
    client.force_login(employee)
    response = client.get("/assets/export.csv")
    assert response.status_code == 302 and "LT-1" not in str(getattr(response, "content", b""))

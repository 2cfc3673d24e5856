"""CSV import: upload -> a stored preview (new / update / unchanged / error per row) -> confirm,
applied in one transaction as the importing person."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.assets import factories
from tests.people import factories as people_factories
from tierline.assets.models import Asset, AssetType, ImportBatch, Status
from tierline.core.history import history_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def laptop(db) -> AssetType:
    return AssetType.objects.get_or_create(name="Laptop")[0]


def upload(client, content: bytes | str, name: str = "assets.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post("/assets/import/", {"file": SimpleUploadedFile(name, data, "text/csv")})


def preview(client, content: bytes | str) -> ImportBatch:
    response = upload(client, content)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportBatch.objects.latest("pk")


def outcomes(batch: ImportBatch) -> dict[int, tuple[str, str]]:
    return {row["line"]: (row["outcome"], row["reason"]) for row in batch.rows}


def test_good_rows_are_previewed_then_applied_as_the_importer(client, lead, laptop, employee):
    # given: one asset to match by tag, one by serial
    office = people_factories.LocationFactory(name="Leeds")
    by_tag = factories.asset(tag="LT-1", model="T14", status=Status.IN_STOCK)
    by_serial = factories.asset(serial="SN-9")
    client.force_login(lead)
    content = (
        "tag,type,serial,make,model,purchase_date,purchase_cost,location,assigned_to,status\n"
        "LT-1,Laptop,,Lenovo,T14s,2024-03-01,999.50,Leeds,employee,deployed\n"
        ",,SN-9,HP,,,,,,\n"
        "LT-NEW,laptop,SN-NEW,Dell,XPS,,,leeds,,\n"
    )
    # when: the preview
    batch = preview(client, content)
    page = client.get(f"/assets/import/{batch.pk}/").content.decode()
    # then: nothing changed yet, and each row says what it would do
    assert outcomes(batch) == {2: ("update", ""), 3: ("update", ""), 4: ("new", "")}
    assert "update (matched by tag)" in page and "update (matched by serial)" in page
    assert Asset.objects.count() == 2
    # when: confirmed
    done = client.post(f"/assets/import/{batch.pk}/apply", {"mode": "valid"}, follow=True)
    # then
    assert "1 created, 2 updated" in done.content.decode()
    by_tag.refresh_from_db()
    assert (by_tag.make, by_tag.model, by_tag.asset_type, by_tag.location) == (
        "Lenovo",
        "T14s",
        laptop,
        office,
    )
    assert by_tag.assigned_to == employee and by_tag.status == Status.DEPLOYED
    assert str(by_tag.purchase_cost) == "999.50" and str(by_tag.purchase_date) == "2024-03-01"
    assert Asset.objects.get(pk=by_serial.pk).make == "HP"
    new = Asset.objects.get(tag="LT-NEW")
    assert (new.serial, new.asset_type, new.location) == ("SN-NEW", laptop, office)
    # every change is in the asset's history, by the person who imported
    entries = list(history_of(by_tag))
    assert {e.actor_id for e in entries} == {lead.pk}
    assert {"make", "model", "status"} <= {e.field for e in entries}
    assert [e.action for e in history_of(new)] == ["created"]
    assert history_of(new).get().actor_id == lead.pk


def test_each_kind_of_bad_row_gets_its_reason_and_is_skipped(client, lead, laptop):
    factories.asset(tag="DONE", status=Status.DISPOSED)
    client.force_login(lead)
    long_model = "M" * 101
    content = (
        "tag,type,purchase_date,model,make,location,assigned_to,status\n"
        "A-1,Toaster,,,,,,\n"  # 2
        "A-2,Laptop,2024-13-45,,,,,\n"  # 3
        "A-3,Laptop,,,,,,\n"  # 4
        "A-3,Laptop,,,,,,\n"  # 5
        f"A-4,Laptop,,{long_model},,,,\n"  # 6
        "A-5,Laptop,,,Del\x00l,,,\n"  # 7
        "A-6,Laptop,,,Bell\x07,,,\n"  # 8
        "A-7,Laptop,,,,,nobody@example.com,\n"  # 9
        "A-8,Laptop,,,,Atlantis,,\n"  # 10
        ",Laptop,,,,,,\n"  # 11
        "DONE,,,,,,,deployed\n"  # 12
        "A-9,Laptop,,,,,,sideways\n"  # 13
        "A-10,Laptop,,,,,,\n"  # 14: good
    )
    batch = preview(client, content)
    got = outcomes(batch)
    assert got[2] == ("error", "unknown type “Toaster”")
    assert got[3][0] == "error" and "bad date in purchase_date" in got[3][1]
    assert got[4] == ("new", "")
    assert got[5][0] == "error" and "duplicate tag “A-3” in the file (first on line 4)" in got[5][1]
    assert got[6][0] == "error" and "longer than 100 characters" in got[6][1]
    assert got[7][0] == "error" and "NUL" in got[7][1]
    assert got[8][0] == "error" and "BEL" in got[8][1]
    assert got[9][0] == "error" and "unknown person" in got[9][1]
    assert got[10] == ("error", "unknown location “Atlantis”")
    assert got[11] == ("error", "a row needs a tag or a serial")
    assert got[12][0] == "error" and "disposed cannot become deployed" in got[12][1]
    assert got[13][0] == "error" and "unknown status" in got[13][1]
    page = client.get(f"/assets/import/{batch.pk}/?show=errors").content.decode()
    assert "error: unknown type “Toaster”" in page and "A-10" not in page
    # when: the valid rows are applied
    client.post(f"/assets/import/{batch.pk}/apply", {"mode": "valid"})
    # then: only those
    assert set(Asset.objects.values_list("tag", flat=True)) == {"DONE", "A-3", "A-10"}
    batch.refresh_from_db()
    assert batch.summary["created"] == 2 and len(batch.summary["errors"]) == 11


def test_all_or_nothing_applies_nothing_when_a_row_is_wrong(client, lead, laptop):
    client.force_login(lead)
    batch = preview(client, "tag,type\nB-1,Laptop\nB-2,Toaster\n")
    response = client.post(f"/assets/import/{batch.pk}/apply", {"mode": "all"}, follow=True)
    assert "nothing was applied" in response.content.decode()
    assert not Asset.objects.filter(tag__startswith="B-").exists()
    batch.refresh_from_db()
    assert batch.applied_at is None  # the preview stays, to apply the valid rows instead
    client.post(f"/assets/import/{batch.pk}/apply", {"mode": "valid"})
    assert list(Asset.objects.values_list("tag", flat=True)) == ["B-1"]


def test_a_bom_and_semicolons_are_read(client, lead, laptop):
    client.force_login(lead)
    content = "\ufefftag;type;make;purchase_cost\nC-1;Laptop;Dell, Inc.;12.5\n".encode()
    batch = preview(client, content)
    assert outcomes(batch) == {2: ("new", "")}
    client.post(f"/assets/import/{batch.pk}/apply", {"mode": "all"})
    asset = Asset.objects.get(tag="C-1")
    assert asset.make == "Dell, Inc." and str(asset.purchase_cost) == "12.50"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is a PNG image, not a CSV file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "spreadsheet or zip file"),
        ("tag,make\nD-1,Bj\xf6rk\n".encode("latin-1"), "not UTF-8 text (byte 0xf6 on line 2)"),
        ("tag,make\nD-1,x\n".encode("utf-16"), "UTF-16"),
        (b'{"assets": [1, 2]}', "not a header of asset columns"),
        (b"tag,colour\nD-1,red\n", "Unknown column “colour”"),
        (b"make,model\nDell,XPS\n", "needs a tag or a serial column"),
        (b"", "Choose a CSV file"),
        (b"tag\n", "a header and no rows"),
        (b'tag,make\nD-1,"unclosed\n', "not a well-formed CSV file"),
    ],
)
def test_files_that_are_not_a_good_csv_are_refused_whole(client, lead, content, message):
    client.force_login(lead)
    response = upload(client, content) if content else client.post("/assets/import/", {})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists() and not Asset.objects.exists()


def test_too_big_and_too_many_rows_are_refused(client, lead, settings):
    settings.TIERLINE = {**settings.TIERLINE, "ASSET_IMPORT_MAX_BYTES": 200}
    client.force_login(lead)
    big = upload(client, "tag\n" + "".join(f"E-{n}\n" for n in range(100)))
    assert big.status_code == 400 and "the most is 200" in big.content.decode()
    settings.TIERLINE = {**settings.TIERLINE, "ASSET_IMPORT_MAX_ROWS": 3}
    settings.TIERLINE["ASSET_IMPORT_MAX_BYTES"] = 10_000
    many = upload(client, "tag\nE-1\nE-2\nE-3\nE-4\n")
    assert many.status_code == 400 and "more than 3 rows" in many.content.decode()
    assert not ImportBatch.objects.exists()


def test_the_confirmation_applies_the_stored_preview_not_what_is_posted(client, lead, tier1):
    # given: a previewed file of one row
    client.force_login(lead)
    batch = preview(client, "tag,make\nF-1,Dell\n")
    # when: the form is re-posted with rows of its own
    client.post(
        f"/assets/import/{batch.pk}/apply",
        {"mode": "valid", "rows": '[{"cells": {"tag": "EVIL"}}]', "tag": "EVIL", "make": "x"},
    )
    # then: the stored rows were applied, and only once
    assert list(Asset.objects.values_list("tag", "make")) == [("F-1", "Dell")]
    again = client.post(f"/assets/import/{batch.pk}/apply", {"mode": "valid"}, follow=True)
    assert "applied already" in again.content.decode()
    assert Asset.objects.count() == 1
    # and another person cannot see or apply someone's preview
    other = preview(client, "tag\nF-2\n")
    tier1.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_asset", "change_asset"])
    )
    client.force_login(tier1)
    assert client.get(f"/assets/import/{other.pk}/").status_code == 404
    assert client.post(f"/assets/import/{other.pk}/apply", {"mode": "valid"}).status_code == 404
    assert not Asset.objects.filter(tag="F-2").exists()


def test_a_row_that_went_stale_after_the_preview_is_refused_at_apply(client, lead, laptop):
    client.force_login(lead)
    batch = preview(client, "tag,type\nG-1,Laptop\n")
    laptop.delete()  # the type named is gone meanwhile
    client.post(f"/assets/import/{batch.pk}/apply", {"mode": "valid"})
    batch.refresh_from_db()
    assert not Asset.objects.exists()
    assert batch.summary["errors"] == [{"line": 2, "reason": "unknown type “Laptop”"}]


def test_importing_the_same_file_twice_updates_and_duplicates_nothing(client, lead, laptop):
    client.force_login(lead)
    content = "tag,serial,type,make\nH-1,SN-H1,Laptop,Dell\n,SN-H2,Laptop,HP\n"
    first = preview(client, content)
    client.post(f"/assets/import/{first.pk}/apply", {"mode": "all"})
    second = preview(client, content)
    assert [row["outcome"] for row in second.rows] == ["unchanged", "unchanged"]
    client.post(f"/assets/import/{second.pk}/apply", {"mode": "all"})
    assert Asset.objects.count() == 2
    changed = preview(client, content.replace("Dell", "Dell Inc"))
    assert [row["outcome"] for row in changed.rows] == ["update", "unchanged"]
    assert changed.rows[0]["changes"] == ["make: Dell → Dell Inc"]


def test_an_export_imports_back_unchanged_formulas_and_all(client, lead, laptop):
    factories.asset(tag="=1+1", make="@home", model="<b> & co", asset_type=laptop)
    factories.asset(tag="K-2", serial="SN-K2", make="-dash")
    client.force_login(lead)
    exported = b"".join(client.get("/assets/export.csv").streaming_content)
    assert b"'=1+1" in exported
    batch = preview(client, exported)
    assert [row["outcome"] for row in batch.rows] == ["unchanged", "unchanged"]
    assert {row["cells"]["tag"] for row in batch.rows} == {"=1+1", "K-2"}


def test_only_staff_with_the_permission_import(client, tier1, employee, lead):
    client.force_login(employee)
    assert client.get("/assets/import/").status_code == 302  # to the portal
    client.force_login(tier1)
    assert client.get("/assets/import/").status_code == 403
    assert upload(client, "tag\nZ-1\n").status_code == 403
    assert client.get("/assets/import/template.csv").status_code == 403
    assert "Import CSV" not in client.get("/assets/").content.decode()
    tier1.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_asset", "change_asset"])
    )
    tier1 = type(tier1).objects.get(pk=tier1.pk)  # permissions are cached on the object
    client.force_login(tier1)
    assert client.get("/assets/import/").status_code == 200
    client.force_login(lead)
    template = client.get("/assets/import/template.csv")
    header = next(csv.reader(io.StringIO(b"".join(template.streaming_content).decode())))
    assert header[:4] == ["tag", "type", "hostname", "serial"] and "status" in header


def test_an_old_preview_is_not_applied(client, lead):
    from datetime import timedelta

    from django.utils import timezone

    client.force_login(lead)
    batch = preview(client, "tag\nOLD-1\n")
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(days=2))
    response = client.post(f"/assets/import/{batch.pk}/apply", {"mode": "valid"}, follow=True)
    assert "more than a day old" in response.content.decode()
    assert not Asset.objects.exists()
    # the next upload tidies the stale preview away
    newer = preview(client, "tag\nNEW-1\n")
    assert list(ImportBatch.objects.values_list("pk", flat=True)) == [newer.pk]


def test_excels_separator_line_is_read(client, lead):
    client.force_login(lead)
    batch = preview(client, "sep=;\r\ntag;make\r\nS-1;Dell, Inc.\r\n")
    assert [(row["line"], row["outcome"], row["cells"]["make"]) for row in batch.rows] == [
        (3, "new", "Dell, Inc.")
    ]

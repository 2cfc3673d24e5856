"""Estate reports: counts made in the database (a constant number of queries), the page with
inline SVG bar charts and a table under each, the CSV (formula guard) and the PDF, rendered for
real by PDFium and looked at as PNG pages."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pypdfium2 as pdfium
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.assets import factories
from tests.people import factories as people_factories
from tierline.assets import pdf, reports
from tierline.assets.models import AssetType, Status

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
NOW = timezone.make_aware(timezone.datetime(2026, 6, 15, 12, 0))


def _estate() -> dict:
    """A small estate whose every count is known: 3 laptops, 1 printer, 1 with no type."""
    laptop = AssetType.objects.get_or_create(name="Laptop")[0]
    printer = AssetType.objects.get_or_create(name="Printer")[0]
    leeds = people_factories.LocationFactory(name="Leeds")
    finance = people_factories.DepartmentFactory(name="Finance")
    accountant = people_factories.UserFactory(username="acc", department=finance)
    a = factories.asset(
        tag="LT-1",
        asset_type=laptop,
        status=Status.DEPLOYED,
        purchase_date=TODAY - timedelta(days=100),  # under a year
        warranty_end=TODAY - timedelta(days=1),  # expired
        os_name="Debian GNU/Linux",
        os_version="12",
        location=leeds,
    )
    b = factories.asset(
        tag="LT-2",
        asset_type=laptop,
        status=Status.DEPLOYED,
        purchase_date=date(2024, 1, 1),  # 1 to 3 years
        warranty_end=TODAY + timedelta(days=10),  # within 30 days
        os_name="Debian GNU/Linux",
        os_version="12",
        assigned_to=accountant,
    )
    c = factories.asset(
        tag="LT-3",
        asset_type=laptop,
        status=Status.IN_REPAIR,
        purchase_date=date(2022, 1, 1),  # 3 to 5 years
        warranty_end=TODAY + timedelta(days=60),  # 31 to 90 days
        os_name="Windows",
        os_version="11",
    )
    factories.asset(
        tag="PR-1",
        asset_type=printer,
        status=Status.IN_STOCK,
        purchase_date=date(2015, 5, 5),  # over 5 years
        warranty_end=TODAY + timedelta(days=400),
    )
    factories.asset(tag="X-1", status=Status.RETIRED)  # no type, no dates, no OS
    for asset, packages in ((a, ["bash", "curl"]), (b, ["bash", "curl"]), (c, ["bash"])):
        for n, name in enumerate(packages):
            factories.software(asset=asset, name=name, version=f"1.{n}.{asset.pk}")
    return {"laptop": laptop, "leeds": leeds, "finance": finance}


def _rows(section: reports.Section) -> dict[str, int]:
    return {row.label: row.count for row in section.rows}


def test_the_report_counts_type_status_age_warranty_os_and_software():
    # given
    _estate()
    # when
    report = reports.estate_report(filters=reports.Filters(), now=NOW)
    # then
    assert report.total == 5
    assert _rows(report.section("type")) == {"Laptop": 3, "Printer": 1, "(no type)": 1}
    assert list(_rows(report.section("type")))[0] == "Laptop"  # the largest first
    assert _rows(report.section("status")) == {
        "Ordered": 0,
        "In stock": 1,
        "Deployed": 2,
        "In repair": 1,
        "Retired": 1,
        "Disposed": 0,
    }
    assert _rows(report.section("age")) == {
        "Under 1 year": 1,
        "1 to 3 years": 1,
        "3 to 5 years": 1,
        "Over 5 years": 1,
        "No purchase date": 1,
    }
    assert _rows(report.section("warranty")) == {
        "Expired": 1,
        "Ends within 30 days": 1,
        "Ends in 31 to 90 days": 1,
        "Ends later": 1,
        "No warranty date": 1,
    }
    assert _rows(report.section("os")) == {"Debian GNU/Linux 12": 2, "Windows 11": 1}
    assert "2 assets with no OS reported" in report.section("os").note
    software = report.section("software").rows
    assert [(r.label, r.count, r.detail) for r in software] == [
        ("bash", 3, "3 versions"),
        ("curl", 2, "2 versions"),
    ]


def test_the_report_filters_by_location_department_type_and_software_name():
    chosen = _estate()
    by_location = reports.estate_report(
        filters=reports.Filters(location_id=chosen["leeds"].pk), now=NOW
    )
    assert by_location.total == 1 and _rows(by_location.section("type")) == {"Laptop": 1}
    assert ("Location", "Leeds") in by_location.filter_labels
    by_department = reports.estate_report(
        filters=reports.Filters(department_id=chosen["finance"].pk), now=NOW
    )
    assert by_department.total == 1
    assert _rows(by_department.section("software")) == {"bash": 1, "curl": 1}
    by_type = reports.estate_report(filters=reports.Filters(type_id=chosen["laptop"].pk), now=NOW)
    assert by_type.total == 3
    searched = reports.estate_report(filters=reports.Filters(software_search="CUR", top=1), now=NOW)
    assert _rows(searched.section("software")) == {"curl": 2}
    top_one = reports.estate_report(filters=reports.Filters(top=1), now=NOW)
    assert _rows(top_one.section("software")) == {"bash": 3}


def test_devices_not_seen_recently_are_counted_and_listed():
    factories.device(tag="FRESH", seen_hours_ago=1)
    factories.device(tag="WEEK", seen_hours_ago=24 * 3)
    factories.device(tag="MONTH", seen_hours_ago=24 * 20)
    factories.device(tag="LOST", seen_hours_ago=24 * 90)
    factories.device(tag="NEVER", seen_hours_ago=None)
    factories.device(tag="GONE", seen_hours_ago=24 * 90, status=Status.DISPOSED)
    report = reports.estate_report(filters=reports.Filters(), now=timezone.now(), offline_hours=72)
    assert _rows(report.section("last_seen")) == {
        "In the last 24 hours": 1,
        "1 to 7 days ago": 1,
        "7 to 30 days ago": 1,
        "Over 30 days ago": 1,
        "Never": 1,
    }
    # the longest silent first, never seen last; a disposed device is not expected to report
    assert [d.name for d in report.not_seen] == ["LOST", "MONTH", "WEEK", "NEVER"]


def test_the_report_takes_the_same_number_of_queries_for_any_estate_size():
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            reports.estate_report(filters=reports.Filters(), now=NOW)
        return len(seen.captured_queries)

    _estate()
    small = count_queries()
    laptop = AssetType.objects.get(name="Laptop")
    for n in range(40):
        asset = factories.device(tag=f"MORE-{n}", asset_type=laptop, os_name=f"OS {n % 7}")
        factories.software(asset=asset, name=f"pkg-{n % 5}", version="1")
    # seven for the whole estate: its software counts are stored (assets.software_counts)
    assert count_queries() == small == 7


def test_the_page_draws_svg_bar_charts_with_a_table_under_each(client, tier1):
    chosen = _estate()
    client.force_login(tier1)
    response = client.get("/assets/reports/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-total="5"' in html
    for key in ("type", "status", "age", "warranty", "os", "software", "last_seen"):
        assert f'data-section="{key}"' in html
    assert html.count('<svg class="bar-chart" role="img"') == 7
    assert '<g data-bar="3">' in html  # three laptops
    assert "<script" not in html.split("<main", 1)[-1].split("</main>")[0]
    assert '<th scope="row">Laptop</th><td class="num">3</td>' in html
    # the filters narrow the charts
    html = client.get("/assets/reports/", {"location": chosen["leeds"].pk}).content.decode()
    assert 'data-total="1"' in html and "location: Leeds" in html


def test_the_page_ignores_junk_filters(client, tier1):
    _estate()
    client.force_login(tier1)
    for junk in (
        {"location": "x"},
        {"type": "99999999999999999999999"},
        {"department": "²"},
        {"top": "-5"},
        {"top": "100000"},
        {"software": "a\x00b" + "z" * 500},
    ):
        assert client.get("/assets/reports/", junk).status_code == 200, junk
        assert client.get("/assets/reports/estate.csv", junk).status_code == 200, junk


def test_requesters_and_strangers_get_no_report(client, employee):
    assert client.get("/assets/reports/").status_code == 302
    assert client.get("/assets/reports/estate.pdf")["Location"].startswith("/accounts/login")
    client.force_login(employee)
    for url in ("/assets/reports/", "/assets/reports/estate.csv", "/assets/reports/estate.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login" not in response["Location"]


HOSTILE = '<b>Ноутбук & "Ωmega"</b>'


def test_names_with_markup_quotes_and_non_latin_text_are_escaped_in_the_page(client, tier1):
    kind = AssetType.objects.create(name=HOSTILE)
    asset = factories.asset(tag="ESC-1", asset_type=kind, os_name="<img src=x onerror=alert(1)>")
    factories.software(asset=asset, name="=cmd|' /C calc'!A0", version="1")
    client.force_login(tier1)
    html = client.get("/assets/reports/").content.decode()
    assert "<b>Ноутбук" not in html and "<img src=x" not in html
    assert "&lt;b&gt;Ноутбук &amp; &quot;Ωmega&quot;&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_csv_guards_formulas_and_keeps_text_as_typed(client, tier1):
    kind = AssetType.objects.create(name=HOSTILE)
    asset = factories.asset(tag="ESC-1", asset_type=kind)
    factories.software(asset=asset, name="=cmd|' /C calc'!A0", version="1")
    client.force_login(tier1)
    response = client.get("/assets/reports/estate.csv")
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert rows[0] == reports.CSV_HEADER
    assert ["summary", "Assets", "1", ""] in rows
    assert ["Assets by type", HOSTILE, "1", ""] in rows
    software = [r for r in rows if r[0].startswith("Software")]
    assert software == [[software[0][0], "'=cmd|' /C calc'!A0", "1", "1 version"]]


def _pdf_pages(data: bytes, tmp_path) -> tuple[list, list[str]]:
    """Each page rendered to a PNG file (read back) and its text, through PDFium."""
    document = pdfium.PdfDocument(data)
    images, texts = [], []
    for n in range(len(document)):
        page = document[n]
        path = tmp_path / f"page-{n}.png"
        page.render(scale=100 / 72).to_pil().save(path)
        from PIL import Image

        images.append(Image.open(path).convert("RGB"))
        texts.append(page.get_textpage().get_text_bounded())
    return images, texts


def test_the_pdf_renders_for_real_with_charts_tables_and_unicode_text(client, tier1, tmp_path):
    # given
    assert pdf.unicode_font_available(), "run scripts/ensure-fonts.sh (fonts-dejavu-core)"
    chosen = _estate()
    kind = AssetType.objects.create(name=HOSTILE)
    factories.asset(tag="ESC-1", asset_type=kind)
    client.force_login(tier1)
    # when
    response = client.get("/assets/reports/estate.pdf", {"type": "", "top": "20"})
    filtered = client.get("/assets/reports/estate.pdf", {"location": chosen["leeds"].pk})
    # then
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    images, texts = _pdf_pages(response.content, tmp_path)
    assert 1 <= len(images) <= 4
    text = "\n".join(texts)
    assert "Estate report" in text and "Filters: the whole estate" in text
    assert "6 assets" in text
    assert HOSTILE in text  # DejaVu: Cyrillic, Greek, markup characters as typed
    assert "Laptop" in text and "Debian GNU/Linux 12" in text and "bash" in text
    assert "Ends within 30 days" in text
    # the bars: pixels of the bar colour, drawn by the PDF's rectangles, in the chart column
    first = images[0]
    width, height = first.size
    bar_pixels = sum(
        1
        for x in range(0, width, 2)
        for y in range(0, height, 2)
        if _near(first.getpixel((x, y)), pdf.BAR)
    )
    assert bar_pixels > 200
    blank = all(_near(first.getpixel((x, 10)), (255, 255, 255)) for x in range(0, width, 5))
    assert blank  # the top margin stays white: the bars are where the charts are
    filtered_text = "\n".join(_pdf_pages(filtered.content, tmp_path)[1])
    assert "Filters: Location: Leeds" in filtered_text and "1 asset\n" in filtered_text.replace(
        "\r", ""
    )


def _near(pixel: tuple[int, int, int], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(pixel, colour, strict=True))

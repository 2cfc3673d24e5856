"""Printable asset labels: A4 sheets of 3 x 8, each with a QR code of the asset page's URL
(decoded back with zxing-cpp from the page PDFium renders), the tag, the name and the type;
and every bad selection refused with a reason."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
import zxingcpp

from tests.assets import factories
from tests.people import factories as people_factories
from tierline.assets import pdf
from tierline.assets.models import AssetType

pytestmark = pytest.mark.django_db

SITE = "https://desk.example.org"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.MAIL_OUT = {**settings.MAIL_OUT, "SITE_URL": SITE + "/"}


def _pages(data: bytes) -> list[dict]:
    """Each page: its size in points, its text and the QR codes read off it (rendered at 200
    dpi by PDFium, decoded by zxing-cpp)."""
    document = pdfium.PdfDocument(data)
    pages = []
    for n in range(len(document)):
        page = document[n]
        bitmap = page.render(scale=200 / 72).to_pil()
        codes = zxingcpp.read_barcodes(bitmap)
        pages.append(
            {
                "size": tuple(round(v) for v in page.get_size()),
                "text": page.get_textpage().get_text_bounded(),
                "qr": sorted(c.text for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode),
            }
        )
    return pages


def test_ticked_assets_print_on_an_a4_sheet_with_qr_codes_that_decode(client, tier1):
    # given
    laptop = AssetType.objects.get_or_create(name="Laptop")[0]
    chosen = [
        factories.asset(tag="LT-1", hostname="ws-0001", asset_type=laptop),
        factories.asset(tag="LT-2", make="Dell", model="Latitude 5440"),
        factories.asset(tag="", serial="SN-3"),
        factories.asset(tag="ЛТ-4 <&>", hostname='хост "x"'),
    ]
    factories.asset(tag="NOT-CHOSEN")
    client.force_login(tier1)
    # when
    response = client.post("/assets/labels.pdf", {"ids": [a.pk for a in chosen]})
    # then
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    [page] = _pages(response.content)
    assert page["size"] == (595, 842)  # A4 in points
    assert len(page["qr"]) == 4
    assert page["qr"] == sorted(f"{SITE}/assets/{a.pk}/" for a in chosen)
    text = page["text"]
    for expected in ("LT-1", "ws-0001", "Laptop", "LT-2", "Dell Latitude 5440", "(no tag)"):
        assert expected in text
    assert "ЛТ-4 <&>" in text and 'хост "x"' in text
    assert "NOT-CHOSEN" not in text


def test_the_lists_current_filter_prints_every_asset_it_shows_on_as_many_sheets(client, tier1):
    leeds = people_factories.LocationFactory(name="Leeds")
    for n in range(pdf.PER_SHEET + 2):
        factories.asset(tag=f"LEEDS-{n:02d}", location=leeds)
    factories.asset(tag="ELSEWHERE")
    client.force_login(tier1)
    response = client.get("/assets/labels.pdf", {"location": leeds.pk, "sort": "-tag"})
    assert response.status_code == 200
    pages = _pages(response.content)
    assert [len(p["qr"]) for p in pages] == [pdf.PER_SHEET, 2]
    assert "LEEDS-25" in pages[0]["text"] and "LEEDS-00" in pages[1]["text"]  # the list's order
    assert "ELSEWHERE" not in pages[0]["text"] + pages[1]["text"]


def test_the_qr_url_is_the_configured_site_address_by_default(client, tier1, settings):
    settings.MAIL_OUT = {k: v for k, v in settings.MAIL_OUT.items() if k != "SITE_URL"}
    asset = factories.asset(tag="DEFAULT-1")
    client.force_login(tier1)
    response = client.post("/assets/labels.pdf", {"ids": [asset.pk]})
    assert response.status_code == 200
    assert _pages(response.content)[0]["qr"] == [f"http://127.0.0.1:8000/assets/{asset.pk}/"]


def test_a_bad_selection_is_refused_with_the_reason(client, tier1, settings):
    settings.TIERLINE = {**settings.TIERLINE, "ASSET_LABELS_MAX": 3}
    assets = [factories.asset(tag=f"T-{n}") for n in range(4)]
    client.force_login(tier1)

    def refused(response, reason: str) -> None:
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert reason in response.content.decode()

    refused(client.post("/assets/labels.pdf", {}), "Choose the assets")
    refused(
        client.post("/assets/labels.pdf", {"ids": [a.pk for a in assets]}),
        "at most 3 labels print at once",
    )
    refused(client.post("/assets/labels.pdf", {"ids": ["1x"]}), "not an asset")
    refused(client.post("/assets/labels.pdf", {"ids": ["²"]}), "not an asset")
    refused(client.post("/assets/labels.pdf", {"ids": [str(2**70)]}), "not an asset")
    refused(
        client.post("/assets/labels.pdf", {"ids": [assets[0].pk, 999999]}),
        "1 of the chosen assets no longer exist",
    )
    refused(client.get("/assets/labels.pdf"), "More than 3 assets match")
    refused(client.get("/assets/labels.pdf", {"q": "nothing-like-this"}), "No assets match")
    # a repeated id is one label
    ok = client.post("/assets/labels.pdf", {"ids": [assets[0].pk] * 3})
    assert ok.status_code == 200 and len(_pages(ok.content)[0]["qr"]) == 1


def test_people_who_cannot_see_assets_get_no_labels(client, employee):
    asset = factories.asset(tag="SECRET-TAG")
    anonymous = client.post("/assets/labels.pdf", {"ids": [asset.pk]})
    assert anonymous.status_code == 302 and "/accounts/login" in anonymous["Location"]
    client.force_login(employee)
    for response in (
        client.post("/assets/labels.pdf", {"ids": [asset.pk]}),
        client.get("/assets/labels.pdf"),
    ):
        assert response.status_code == 302 and b"%PDF" not in response.content


def test_the_asset_list_offers_labels_for_ticked_rows_and_for_the_filter(client, tier1):
    asset = factories.asset(tag="<LT&1>")
    client.force_login(tier1)
    html = client.get("/assets/", {"q": "LT"}).content.decode()
    assert 'id="label-form"' in html and 'action="/assets/labels.pdf"' in html
    assert f'name="ids" value="{asset.pk}" form="label-form"' in html
    assert 'aria-label="Label for &lt;LT&amp;1&gt;"' in html
    assert 'href="/assets/labels.pdf?q=LT' in html

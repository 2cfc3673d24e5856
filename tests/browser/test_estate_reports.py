"""The estate report and labels in Chromium: the charts draw under the CSP (no console error, no
refused inline style), axe-core finds nothing at desktop and phone width, the page does not
scroll sideways on a phone, and ticking rows on the asset list prints a PDF of labels."""

from __future__ import annotations

import pytest

from tests.assets import factories
from tests.browser import axe
from tests.browser.conftest import sign_in
from tierline.assets.models import AssetType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def estate(tier1):
    laptop = AssetType.objects.get_or_create(name="Laptop")[0]
    printer = AssetType.objects.get_or_create(name="Printer")[0]
    for n in range(3):
        asset = factories.device(
            tag=f"LT-{n}",
            hostname=f"ws-{n}",
            asset_type=laptop,
            os_name="Debian GNU/Linux",
            os_version="12",
        )
        factories.software(asset=asset, name="a-very-long-package-name-" * 3)
    factories.asset(tag="PR-1", asset_type=printer)
    factories.device(tag="QUIET-1", seen_hours_ago=24 * 40)


def test_a_technician_reads_the_estate_report_and_prints_labels(estate, chromium, screenshots):
    results = []
    with chromium() as browser:
        tech = browser.person("tier1")
        sign_in(tech, "tier1")
        tech.goto("/assets/")
        tech.get_by_role("link", name="Reports").click()
        tech.wait_for_load_state()
        assert tech.get_by_role("heading", name="Estate report").is_visible()
        assert tech.get_by_role("img", name="Assets by type").is_visible()
        assert tech.locator('svg[data-chart="type"] rect.bar').count() == 3  # and "(no type)"
        fill = tech.locator('svg[data-chart="type"] rect.bar').first.evaluate(
            "el => getComputedStyle(el).fill"
        )
        assert fill not in ("rgb(0, 0, 0)", "none"), fill  # app.css styled the bars
        results.append(axe.check(tech, "estate report", watch=browser.watch))
        tech.screenshot(path=screenshots / "estate-report.png", full_page=True)

        phone = browser.person("tier1-phone", width=390, height=844)
        sign_in(phone, "tier1")
        phone.goto("/assets/reports/")
        phone.screenshot(path=screenshots / "estate-report-390.png", full_page=True)
        results.append(axe.check(phone, "estate report at 390px", watch=browser.watch))
        overflow = phone.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the report scrolls sideways by {overflow}px"

        tech.goto("/assets/")
        results.append(axe.check(tech, "asset list with label checkboxes", watch=browser.watch))
        tech.get_by_label("Label for LT-0").check()
        tech.get_by_label("Label for PR-1").check()
        with tech.expect_response(lambda r: "/assets/labels.pdf" in r.url) as answer:
            try:
                with tech.expect_download(timeout=10_000):
                    tech.get_by_role("button", name="Print labels for the ticked assets").click()
            except Exception:  # noqa: BLE001  a built-in PDF viewer opens it instead
                pass
        response = answer.value
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        problems = list(browser.watch.problems)

    violations = [line for result in results for line in result.lines()]
    assert violations == [], axe.report(results)
    assert problems == []

"""An asset's page in Chromium on a phone: a technician says the monitor is attached to this
laptop and asks its agent for a reachability check. axe-core checks the page with the
relations, diagnostics and changes panels; the watch fails on console and HTTP errors."""

from __future__ import annotations

import pytest

from tests.assets import factories
from tests.browser import axe
from tests.browser.conftest import sign_in
from tierline.assets.models import AssetRelation, DiagnosticRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_technician_relates_a_monitor_and_asks_for_a_diagnostic_on_a_phone(
    tier1, chromium, screenshots
):
    laptop = factories.device(tag="LT-77", hostname="laptop-77")
    factories.asset(tag="MON-77")
    results = []
    with chromium() as browser:
        tech = browser.person("tier1-phone", width=390, height=844)
        sign_in(tech, "tier1")
        tech.goto(f"/assets/{laptop.pk}/")
        tech.get_by_label("This asset").select_option(label="has attached")
        tech.get_by_label("Other asset (tag, number or hostname)").fill("MON-77")
        tech.get_by_role("button", name="Add relation").click()
        tech.wait_for_load_state()
        assert tech.get_by_role("link", name="MON-77").is_visible()
        tech.get_by_label("Diagnostic", exact=True).select_option(label="Reachability: ping")
        tech.get_by_label("Host (for reachability)").fill("printer-2.example")
        tech.get_by_role("button", name="Run on LT-77").click()
        tech.wait_for_load_state()
        assert tech.get_by_text("Reachability: ping printer-2.example").first.is_visible()
        results.append(axe.check(tech, "asset page at 390px", watch=browser.watch))
        tech.screenshot(path=screenshots / "asset-page-390.png", full_page=True)
        overflow = tech.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        problems = list(browser.watch.problems)

    violations = [line for result in results for line in result.lines()]
    assert violations == [], axe.report(results)
    assert problems == []
    assert overflow <= 0, f"the asset page scrolls sideways by {overflow}px"
    assert AssetRelation.objects.filter(to_asset=laptop, kind="attached_to").exists()
    assert DiagnosticRequest.objects.get().parameters == {"host": "printer-2.example", "port": 80}

"""The estate in Chromium: a lead imports assets from a CSV file (upload, preview, apply) and a
technician reads the status board on a phone. axe-core checks each page; the watch fails on
console and HTTP errors."""

from __future__ import annotations

import pytest

from tests.assets import factories
from tests.browser import axe
from tests.browser.conftest import sign_in
from tierline.assets.models import Asset, AssetType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def estate(lead, tier1):
    AssetType.objects.get_or_create(name="Laptop")
    factories.device(tag="FULL-1", free_gib=5, hostname="ws-full")
    factories.device(tag="FINE-1", hostname="ws-fine")


def test_a_lead_imports_a_csv_and_a_technician_reads_the_board_on_a_phone(
    estate, chromium, screenshots
):
    results = []
    csv_bytes = b"tag;type;make\nNEW-1;Laptop;Dell\nBAD-1;Toaster;HP\n"
    with chromium() as browser:
        lead = browser.person("lead")
        sign_in(lead, "lead")
        lead.goto("/assets/")
        lead.get_by_role("link", name="Import CSV").click()
        lead.wait_for_load_state()
        results.append(axe.check(lead, "asset import", watch=browser.watch))
        lead.get_by_label("CSV file").set_input_files(
            files=[{"name": "assets.csv", "mimeType": "text/csv", "buffer": csv_bytes}]
        )
        lead.get_by_role("button", name="Upload and preview").click()
        lead.wait_for_load_state()
        assert lead.get_by_text("1 new, 0 to update, 0 unchanged, 1 with errors.").is_visible()
        assert lead.get_by_text("error: unknown type “Toaster”").is_visible()
        results.append(axe.check(lead, "import preview", watch=browser.watch))
        lead.get_by_role("button", name="Apply the import").click()
        lead.wait_for_load_state()
        assert lead.get_by_text("1 created, 0 updated").first.is_visible()

        tech = browser.person("tier1-phone", width=390, height=844)
        sign_in(tech, "tier1")
        tech.goto("/assets/board/")
        tech.get_by_label("Health").select_option(label="Disk nearly full")
        tech.get_by_role("button", name="Show").click()
        tech.wait_for_load_state()
        assert tech.get_by_role("link", name="FULL-1").is_visible()
        assert tech.get_by_role("link", name="FINE-1").count() == 0
        results.append(axe.check(tech, "status board at 390px", watch=browser.watch))
        tech.screenshot(path=screenshots / "assets-board-390.png", full_page=True)
        overflow = tech.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the board scrolls sideways by {overflow}px"
        problems = list(browser.watch.problems)

    violations = [line for result in results for line in result.lines()]
    assert violations == [], axe.report(results)
    assert problems == []
    assert Asset.objects.filter(tag="NEW-1", make="Dell").exists()
    assert not Asset.objects.filter(tag="BAD-1").exists()

"""The axe-core helper finds what it should, so the story's "0 violations" means something."""

from __future__ import annotations

import pytest

from tests.browser import axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BAD_PAGE = """<!doctype html><html lang="en"><head><title>Bad</title></head><body>
<main><h1>Bad</h1>
<p class="faint">Opened <span style="color:#bbb">3 hours ago</span></p>
<select name="priority"><option>P3</option></select>
</main></body></html>"""


def test_axe_reports_an_unlabelled_select_and_faint_text(chromium):
    with chromium() as browser:
        # given: a page with two known faults, outside the app (set_content has no CSP)
        page = browser.person("nobody")
        page.set_content(BAD_PAGE)
        # when
        result = axe.check(page, "bad page")
        # then
        assert {rule["id"] for rule in result.violations} == {"select-name", "color-contrast"}
        assert any(line.startswith("select-name (critical): select: ") for line in result.lines())
        assert result.passed > 10 and "violations 2" in result.summary()


def test_axe_runs_under_the_apps_csp_and_checks_the_sign_in_page(chromium):
    with chromium() as browser:
        # given: the app's sign-in page, with its strict Content-Security-Policy
        page = browser.person("nobody")
        response = page.goto("/accounts/login/")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        # when
        result = axe.check(page, "sign-in", watch=browser.watch)
        # then: axe ran (rules passed) and the page breaks none of them
        assert result.passed > 10
        assert result.violations == []
        problems = list(browser.watch.problems)
    assert problems == []

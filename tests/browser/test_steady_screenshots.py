"""The browser tests' screenshot is tried again when Chromium refuses a capture (a flaky
failure of a full run, `test_an_approver_approves_on_a_phone_by_keyboard`), and only then."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SCREENSHOT_TRIES, steady_screenshots

REFUSED = "Page.screenshot: Protocol error (Page.captureScreenshot): Unable to capture screenshot"


class FakePage:
    """What `steady_screenshots` uses of a Playwright page: refusals first, then a picture."""

    def __init__(self, errors: list[Exception]) -> None:
        self.errors = errors
        self.captures = 0
        self.waited: list[int] = []

    def screenshot(self, **kwargs) -> bytes:
        self.captures += 1
        if self.errors:
            raise self.errors.pop(0)
        return b"png:" + str(kwargs.get("path", "")).encode()

    def wait_for_timeout(self, ms: int) -> None:
        self.waited.append(ms)


def test_a_refused_screenshot_is_taken_again_not_failed():
    page = steady_screenshots(FakePage([RuntimeError(REFUSED)]))
    assert page.screenshot(path="a.png", full_page=True) == b"png:a.png"
    assert page.captures == 2
    assert page.waited == [200]


def test_another_screenshot_error_is_raised_at_once():
    page = steady_screenshots(
        FakePage([RuntimeError("Target page, context or browser has been closed")])
    )
    with pytest.raises(RuntimeError, match="has been closed"):
        page.screenshot(path="a.png")
    assert page.captures == 1


def test_a_capture_refused_every_time_still_fails():
    page = steady_screenshots(FakePage([RuntimeError(REFUSED)] * SCREENSHOT_TRIES))
    with pytest.raises(RuntimeError, match="Unable to capture screenshot"):
        page.screenshot(path="a.png")
    assert page.captures == SCREENSHOT_TRIES

"""A real Chromium for the end-to-end story, and a watch on everything that goes wrong in it.

Playwright runs an event loop in the test's thread: Django then refuses synchronous ORM calls
(or opens a stray connection). Create the data in fixtures that come first, and check the
database only after the `chromium()` block has ended.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "pw-for-tests-1"


@dataclass
class Watch:
    """What went wrong in the browser: console errors, failed or refused same-origin requests."""

    origin: str
    problems: list[str] = field(default_factory=list)

    def _ours(self, url: str) -> bool:
        return urlsplit(url).netloc == urlsplit(self.origin).netloc

    def attach(self, context, who: str) -> None:
        def console(message) -> None:
            if message.type == "error":
                self.problems.append(f"{who}: console error: {message.text} ({message.location})")

        def page_error(error) -> None:
            self.problems.append(f"{who}: uncaught script error: {error}")

        def failed(request) -> None:
            # ERR_ABORTED: the page navigated away while the request was under way (a favicon,
            # say), which the browser cancels by design; not something that went wrong.
            if self._ours(request.url) and request.failure != "net::ERR_ABORTED":
                self.problems.append(f"{who}: request failed: {request.url} {request.failure}")

        def response(resp) -> None:
            if self._ours(resp.url) and resp.status >= 400:
                self.problems.append(
                    f"{who}: HTTP {resp.status} for {resp.request.method} {resp.url}"
                )

        context.on("console", console)
        context.on("weberror", page_error)
        context.on("requestfailed", failed)
        context.on("response", response)


@dataclass
class Browser:
    """One Chromium; `person()` gives each person their own context (cookies) and page."""

    browser: object
    origin: str
    watch: Watch

    def person(self, who: str, *, width: int = 1280, height: int = 900):
        context = self.browser.new_context(
            base_url=self.origin, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(10_000)
        self.watch.attach(context, who)
        return steady_screenshots(context.new_page())


# Chromium now and then refuses a capture ("Protocol error (Page.captureScreenshot): Unable to
# capture screenshot"), most often of a full page just after it changed: seen once in ~30 full
# runs, never twice in a row. A screenshot here is a picture for people, not an assertion.
SCREENSHOT_REFUSED = "Unable to capture screenshot"
SCREENSHOT_TRIES = 3


def steady_screenshots(page):
    """`page`, its `screenshot` tried again (after a frame) when Chromium refuses a capture;
    any other error, or a third refusal, is raised as it was."""
    capture = page.screenshot

    def screenshot(**kwargs):
        for _ in range(SCREENSHOT_TRIES - 1):
            try:
                return capture(**kwargs)
            except Exception as exc:
                if SCREENSHOT_REFUSED not in str(exc):
                    raise
                page.wait_for_timeout(200)
        return capture(**kwargs)

    page.screenshot = screenshot
    return page


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def chromium(live_server):
    """A context manager: `with chromium() as browser:`; the ORM is usable again after it."""
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")

    @contextmanager
    def launch() -> Iterator[Browser]:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield Browser(browser, live_server.url, Watch(live_server.url))
            finally:
                browser.close()

    return launch


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Through the real login form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, f"{username} could not sign in"

"""Browser tests: Playwright driving Debian's Chromium against the app on loopback.

They never download a browser (``playwright install`` is not used): without
/usr/bin/chromium they skip and say how to get it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from web_app import RunningApp, running_app

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]

__all__ = ["running_app"]


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One Chromium per test module; each test gets its own context (cookies, storage).

    Not per session: Playwright's sync API keeps an event loop running in this thread while
    it is open, and the other test modules need to run their own.
    """
    if not CHROMIUM.exists():
        pytest.skip("Chromium not installed: apt-get install chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: object, running_app: RunningApp) -> Iterator[object]:
    """A fresh page; console errors (a script failing, a blocked request) fail the test.

    It needs the app so that it closes first: the app's server waits for open event streams
    before it stops, and the page holds one.
    """
    context = chromium.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 860}, device_scale_factor=1, locale="de-DE",
    )
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    assert errors == [], f"the browser reported errors: {errors}"


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS

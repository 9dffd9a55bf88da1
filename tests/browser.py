"""Real headless Chromium (Debian's package) driven by Playwright, for the page tests.

Playwright's own browser download cannot work here (no network), so the browser is /usr/bin/chromium,
started with the flags that keep it off the network. Screenshots go to test-artifacts/ (kept by CI).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


# Module scope, not session: while Playwright's sync API is running, the main thread has a running event
# loop, and tests that later call asyncio.run() (tests/net/test_fetcher.py) would fail in a full run.
@pytest.fixture(scope="module")
def browser():
    require(Path(CHROMIUM).exists(), "Debian's chromium is needed for browser tests (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a pinned test dependency
        require(False, "the playwright package is needed for browser tests")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, live, email: str) -> None:
    """Signs ``email`` in to the demo wallet the way a learner does: the form, the e-mailed link (the test-only
    outbox), the confirmation button."""
    page.goto(f"{live.url}/wallet/signin")
    page.fill("#email", email)
    page.click("button[type=submit]")
    page.wait_for_selector("#signin-sent")
    link = next(url for sent_to, url in reversed(live.app.state.wallet.outbox) if sent_to == email)
    page.goto(link)
    page.click("#confirm-signin")
    page.wait_for_load_state()


WIDTHS = (1280, 390)


def at_widths(browser, name: str, act, widths=WIDTHS) -> list:
    """Runs ``act(page)`` in a fresh context at each width (desktop, then a phone), screenshots each as
    ``{name}-{width}.png`` and checks that the page does not scroll sideways. Returns what each ``act`` returned."""
    out = []
    for width in widths:
        phone = width < 600
        context = browser.new_context(
            viewport={"width": width, "height": 844 if phone else 900}, device_scale_factor=2 if phone else 1, is_mobile=phone, has_touch=phone
        )
        page = context.new_page()
        try:
            out.append(act(page))
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways at {width} px"
            screenshot(page, f"{name}-{width}")
        finally:
            context.close()
    return out

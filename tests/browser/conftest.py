"""Headless Chromium (Debian's package) driven by Playwright, and the axe-core check.

Playwright cannot download its own browser here, so it launches
``/usr/bin/chromium`` (override with ``CHROMIUM``); ``make test`` installs it.
A missing browser or axe-core fails these tests: they are never skipped.
"""

import json
import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the test's own ORM
# calls are still ordinary synchronous code, so Django's async guard is lifted
# for the browser tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), (
        f"No Chromium at {CHROMIUM}: run `make test` (it installs Debian's chromium) "
        "or set CHROMIUM."
    )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) and page per test."""
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def assert_accessible(page) -> None:
    """Run axe-core on the current page; fail listing every WCAG 2.2 A/AA violation."""
    assert AXE_JS.exists(), "axe-core is missing: run `make test` (it runs npm ci)."
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA
    )
    violations = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
    assert violations == [], f"{page.url}:\n{json.dumps(violations, indent=1)}"

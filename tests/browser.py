"""A real headless Chromium for what a person reads in a browser (reports, digests).

Debian's `chromium` (installed by `.ci/run`) is driven through Playwright's Python
package — only its driver is used, never a downloaded browser. Without the binary the
tests that need it are skipped saying so, unless `SOAR_REQUIRE_BROWSER=1` (CI sets it),
which makes that a failure. Screenshots go under the test's own output folder
(`tmp_path`), kept by pytest after the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

REQUIRE = "SOAR_REQUIRE_BROWSER"
CANDIDATES = ("chromium", "chromium-browser")


def chromium_binary() -> str:
    """The Chromium to drive, or skip (fail under SOAR_REQUIRE_BROWSER=1) saying why."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    message = "the browser tests need Debian's chromium (apt-get install chromium)"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{message}; {REQUIRE}=1 makes this a failure", pytrace=False)
    pytest.skip(message)


@asynccontextmanager
async def headless_chromium() -> AsyncIterator[Browser]:
    """A headless Chromium for the duration of the block (no sandbox: tests run as root)."""
    binary = chromium_binary()
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=binary, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def opened(browser: Browser, html: Path, width: int = 1280) -> AsyncIterator[Page]:
    """`html` opened from disk in a new page `width` pixels wide; JavaScript off, so what
    shows is the document itself."""
    address = html.as_uri()  # an absolute path (tmp_path is)
    context = await browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=False
    )
    page = await context.new_page()
    try:
        await page.goto(address)
        yield page
    finally:
        await context.close()


async def overflowing(page: Page) -> list[str]:
    """The elements wider than the page (each as `tag.class`): nothing should overflow."""
    found: list[str] = await page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > width + 1)
                .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
        }"""
    )
    return found

"""The browser helpers themselves: a wide element is found, a fitting page is clean."""

from __future__ import annotations

from pathlib import Path

from tests.browser import headless_chromium, opened, overflowing


async def test_an_element_wider_than_the_page_is_reported(tmp_path: Path) -> None:
    page_file = tmp_path / "page.html"
    page_file.write_text(
        '<html><body><p class="fits">short</p>'
        '<table class="wide" style="width:3000px"><tr><td>x</td></tr></table></body></html>'
    )
    async with headless_chromium() as browser, opened(browser, page_file) as page:
        found = await overflowing(page)
        await page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    assert "table.wide" in found and "p.fits" not in found
    assert (tmp_path / "page.png").stat().st_size > 0

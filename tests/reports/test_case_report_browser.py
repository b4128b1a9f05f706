"""The HTML case reports opened in a real headless Chromium (Debian's, through
Playwright's driver): the escalation summary's tables hold the seeded case's figures,
nothing overflows on a desktop or a phone, a hostile case runs no script; screenshots
are kept in the test's output folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page

from soar.reports.kinds import ReportFormat, ReportKind
from soar.reports.service import render_case_report
from soar.store.db import Store
from tests.browser import headless_chromium, opened, overflowing
from tests.reports.seed import ATTACKER, HOSTILE, HUGE, LAPTOP, VICTIM, seed_case
from tests.reports.test_case_report_formats import NOW, settings_for
from tests.store import conftest as stores

empty_store = stores.empty_store
store = stores.store

WIDTHS = (1280, 390)
"""A desktop mail client and a phone."""


async def rows(page: Page, table: str) -> list[list[str]]:
    """The cells of each body row of `table.<table>`, as the browser shows them."""
    found: list[list[str]] = await page.evaluate(
        """(name) => [...document.querySelectorAll(`table.${name} tr`)]
            .filter(row => row.querySelector('td'))
            .map(row => [...row.children].map(cell => cell.innerText.trim()))""",
        table,
    )
    return found


async def render_to_file(
    store: Store, case_id: str, kind: ReportKind, directory: Path, name: str
) -> Path:
    rendered = await render_case_report(
        store, case_id, kind, ReportFormat.HTML, settings_for(directory), now=NOW
    )
    path = directory / name
    path.write_text(rendered.text, encoding="utf-8")
    return path


async def test_the_escalation_summary_shows_the_case_in_its_tables(
    store: Store, tmp_path: Path
) -> None:
    seeded = await seed_case(store)
    page_file = await render_to_file(
        store, seeded.case_id, ReportKind.ESCALATION, tmp_path, "escalation.html"
    )

    async with headless_chromium() as browser:
        for width in WIDTHS:
            async with opened(browser, page_file, width=width) as page:
                assert await overflowing(page) == [], width
                await page.screenshot(
                    path=str(tmp_path / f"escalation-{width}.png"), full_page=True
                )
                facts = dict(await rows(page, "facts"))
                assets = await rows(page, "assets")
                users = await rows(page, "users")
                findings = await rows(page, "findings")
                actions = await rows(page, "actions")
                approvals = await rows(page, "approvals")
                timeline = await rows(page, "timeline")
                tickets = await page.locator("ul.tickets a").get_attribute("href")

    assert facts["Severity"] == "high"
    assert facts["State"] == "waiting for a decision"
    assert facts["Assignee"] == "alice"
    assert facts["Acknowledged by"] == "bob at 2025-03-01 12:17 UTC"
    assert facts["Escalation"] == "stopped: acknowledged by bob (policy critical-15m)"
    assert facts["Alerts"] == "3 from suricata"
    assert assets == [[LAPTOP, "host", "critical", VICTIM]]
    assert users == [[VICTIM, "target", "yes", "finance", "a.smith"]]
    assert findings[0] == [
        "ip",
        ATTACKER,
        "source",
        "malicious (95/100)",
        "reported 523 times by 97 users",
    ]
    assert actions == [
        ["block", ATTACKER, "in effect", "2025-03-01 12:07 UTC", "2025-03-01 13:07 UTC", "edge"],
        [
            "isolate",
            LAPTOP,
            f"failed: no host named {LAPTOP} in CrowdStrike",
            "-",
            "-",
            "crowdstrike",
        ],
    ]
    assert approvals[0][2:4] == [
        "approved",
        "carol (approve, 2025-03-01 12:06 UTC: clearly hostile)",
    ]
    assert approvals[1][2:4] == [
        "pending, expires 2025-03-01 13:20 UTC",
        "waiting for group:soc-leads",
    ]
    assert [row[1:] for row in timeline][-3:] == [
        ["bob", "Acknowledged by bob"],
        ["system", "Escalation stopped: acknowledged by bob"],
        ["system", f"Opened {seeded.ticket_key}"],
    ]
    assert tickets == seeded.ticket_url
    for width in WIDTHS:
        assert (tmp_path / f"escalation-{width}.png").stat().st_size > 10_000


@pytest.mark.parametrize("kind", list(ReportKind))
async def test_a_hostile_case_runs_nothing_and_overflows_nothing(
    store: Store, tmp_path: Path, kind: ReportKind
) -> None:
    seeded = await seed_case(store, hostile=HUGE)
    page_file = await render_to_file(store, seeded.case_id, kind, tmp_path, f"{kind.value}.html")

    async with headless_chromium() as browser:
        for width in WIDTHS:
            async with opened(browser, page_file, width=width) as page:
                assert await overflowing(page) == [], width
                await page.screenshot(path=str(tmp_path / f"{kind.value}-{width}.png"))
                scripts = await page.evaluate("document.scripts.length")
                links = await page.evaluate("[...document.links].map(a => a.href)")
                text = await page.locator("body").inner_text()

    assert scripts == 0
    assert set(links) <= {seeded.ticket_url}
    assert "<script>alert(1)</script>" in text and "{{ 7*7 }}" in text
    assert HOSTILE.splitlines()[0] not in text  # the bidi and zero-width marks are gone

"""The digest rendered from a seeded store: the HTML opened in a real headless Chromium
(the chart drawn with the seeded counts, the tables holding the seeded figures, nothing
wider than the page, at desktop and phone widths; screenshots kept under the test's
folder), hostile rule and source names inert in every format and within Slack's limits,
and operators' template overrides."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page

from soar.alerts.models import Rule, Severity, SeverityInfo, make_alert
from soar.reports.chart import render_chart
from soar.reports.digest import Digest, build_digest, render_digest
from soar.reports.figures import DayCount
from soar.reports.service import ReportConfigError
from soar.store.db import Store
from tests.browser import headless_chromium, opened, overflowing
from tests.reports.digest_seed import (
    HOSTILE_RULE,
    Scenario,
    expected_days,
    expected_period,
    expected_rules,
    scenario,
    seed,
)

HOSTILE_SOURCE = "<b>edr</b><!here>"
HUGE = 100_000
SLACK_SECTION_TEXT = 3000
SLACK_BLOCKS = 50


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[tuple[Store, Scenario]]:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}")
    await store.migrate()
    drawn = scenario()
    await seed(store, drawn)
    yield store, drawn
    await store.close()


async def _cells(page: Page, selector: str) -> list[list[str]]:
    rows: list[list[str]] = await page.eval_on_selector_all(
        f"{selector} tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))",
    )
    return rows


async def test_the_html_digest_in_chromium_shows_the_seeded_figures(
    seeded: tuple[Store, Scenario], tmp_path: Path
) -> None:
    store, drawn = seeded
    window = drawn.window
    digest = await build_digest(store.engine, window)
    page_file = tmp_path / "digest.html"
    page_file.write_text(render_digest(digest, None).html, encoding="utf-8")
    expected = expected_period(drawn, window.start, window.end)
    before = expected_period(drawn, window.previous_start, window.start)
    days = expected_days(drawn)

    async with headless_chromium() as browser:
        for width in (1280, 480):
            async with opened(browser, page_file, width=width) as page:
                await page.screenshot(path=str(tmp_path / f"digest-{width}.png"), full_page=True)
                assert await overflowing(page) == [], f"something overflows at {width} px"
                chart = await page.locator(".chart svg").bounding_box()
                assert chart is not None and chart["width"] > width / 4 and chart["height"] > 100
                bars = [
                    await page.locator(f'[id="alerts-{day}"] path').bounding_box()
                    for day, _, _ in days
                ]
                heights = [bar["height"] if bar else 0.0 for bar in bars]
                tallest = max(days, key=lambda d: d[1])
                unit = heights[days.index(tallest)] / tallest[1]
                for (day, alerts, _), height in zip(days, heights, strict=True):
                    assert height == pytest.approx(alerts * unit, abs=1.0), day

                figures = {row[0]: row[1:] for row in await _cells(page, "table.figures")}
                assert figures["Alerts"][:2] == [f"{expected['alerts']:,}", f"{before['alerts']:,}"]
                assert figures["Cases opened"][0] == str(expected["cases_opened"])
                assert figures["Cases resolved or closed"][0] == str(expected["cases_resolved"])
                assert figures["Automation rate (resolved with no person's step)"][0].endswith(
                    f"({expected['cases_automated']} of {expected['cases_resolved']})"
                )
                breaches = expected["sla_breaches"]
                assert isinstance(breaches, dict)
                assert figures["SLA breaches: time to acknowledge"][0] == str(
                    breaches["acknowledge"]
                )
                assert figures["Containments applied"][0] == str(expected["containments_applied"])
                assert figures["Expired"][0] == str(expected["containments_expired"])

                by_source = expected["alerts_by_source"]
                assert isinstance(by_source, dict)
                sources = {row[0]: row for row in await _cells(page, "table.sources")}
                for source, levels in by_source.items():
                    assert sources[source][6] == str(sum(levels.values()))
                    assert sources[source][1] == str(levels.get("critical", 0))
                assert sources["All sources"][6] == str(expected["alerts"])

                rules = await _cells(page, "table.rules")
                assert [(r[1], int(r[2]), int(r[3])) for r in rules] == [
                    (re.sub(r"\s+", " ", rule.replace("\u202e", "")), now, earlier)
                    for rule, now, earlier in expected_rules(drawn)
                ]
                assert [(int(r[1]), int(r[2])) for r in await _cells(page, "table.days")] == [
                    (alerts, cases) for _, alerts, cases in days
                ]
                assert await page.locator("script, img, body a").count() == 0


async def _hostile_digest(store: Store, drawn: Scenario) -> Digest:
    """The seeded store plus alerts whose rule and source names are hostile and huge."""
    inside = drawn.window.start + timedelta(hours=5)
    for n in range(60):
        name = str(n % 3) + (HOSTILE_RULE * (HUGE // len(HOSTILE_RULE) + 1))[:HUGE]
        await store.upsert_alert(
            make_alert(
                source=HOSTILE_SOURCE if n % 2 else "suricata",
                native_key=f"hostile-{n}",
                title=HOSTILE_RULE * 3,
                severity=SeverityInfo(level=Severity.CRITICAL),
                time=inside,
                rule=Rule(name=name),
            )
        )
    return await build_digest(store.engine, drawn.window)


async def test_hostile_names_are_inert_in_every_format(
    seeded: tuple[Store, Scenario], tmp_path: Path
) -> None:
    store, drawn = seeded
    rendered = render_digest(await _hostile_digest(store, drawn), None)

    html = rendered.html
    assert "<script" not in html and "<img" not in html and "<b>edr" not in html
    assert "&lt;script&gt;alert(&#39;digest&#39;)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html
    assert "\u202e" not in html
    page_file = tmp_path / "hostile.html"
    page_file.write_text(html, encoding="utf-8")
    async with headless_chromium() as browser, opened(browser, page_file) as page:
        await page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
        assert await overflowing(page) == []
        assert await page.locator("script, img, b, body a").count() == 0
        texts = [row[1] for row in await _cells(page, "table.rules")]
        huge = [text for text in texts if text[:1] in "012" and "<script>alert(" in text]
        assert huge and all(text.endswith("…(truncated)") for text in huge)
        assert all(len(text) < 400 for text in texts)

    markdown = rendered.markdown
    assert "<script" not in markdown and "<!here>" not in markdown
    assert "&lt;script&gt;" in markdown and "&lt;b&gt;edr&lt;/b&gt;" in markdown
    assert len(markdown) < 30_000

    blocks = rendered.slack_blocks
    assert 0 < len(blocks) <= SLACK_BLOCKS
    texts = [_text_of(block) for block in blocks]
    joined = "\n".join(texts)
    assert "<!channel>" not in joined and "<!here>" not in joined and "<@U0BOSS>" not in joined
    assert "<https://evil.example|click>" not in joined and "<script" not in joined
    assert "&lt;!channel&gt;" in joined and "&lt;b&gt;edr&lt;/b&gt;&lt;!here&gt;" in joined
    assert all(len(text) <= SLACK_SECTION_TEXT for text in texts)
    assert "<" not in rendered.slack_text
    json.dumps(blocks)


def _text_of(block: dict[str, object]) -> str:
    """Every text in a block, joined."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                found.append(value["text"])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(block)
    return "\n".join(found)


async def test_an_operator_template_replaces_the_shipped_one(
    seeded: tuple[Store, Scenario], tmp_path: Path
) -> None:
    store, drawn = seeded
    digest = await build_digest(store.engine, drawn.window)
    overrides = tmp_path / "templates"
    overrides.mkdir()
    (overrides / "digest.md.j2").write_text(
        "{{ digest.title|md }}: {{ digest.sections[0].rows[0].current }} alerts\n"
    )

    rendered = render_digest(digest, overrides)

    assert rendered.markdown == f"{digest.view.title}: {digest.figures.current.alerts} alerts\n"
    assert "<svg" in rendered.html  # the others stay the shipped ones

    (overrides / "digest.md.j2").write_text("{{ digest.no_such_field }}")
    with pytest.raises(ReportConfigError, match=r"digest\.md\.j2 from reports\.templates_dir"):
        render_digest(digest, overrides)
    (overrides / "digest.md.j2").write_text("{{ digest.__class__.__mro__ }}")
    with pytest.raises(ReportConfigError, match="unsafe"):
        render_digest(digest, overrides)


def test_the_chart_has_one_bar_per_day_in_svg_and_png() -> None:
    days = [
        DayCount(day, alerts, cases)
        for day, alerts, cases in zip(
            [d.day for d in scenario().window.days()],
            [5, 0, 9, 2, 7, 1, 3],
            [1, 0, 2, 2, 0, 1, 4],
            strict=True,
        )
    ]

    chart = render_chart(days)

    assert chart.svg.startswith("<svg") and "<?xml" not in chart.svg
    for day in days:
        assert f'id="alerts-{day.day.isoformat()}"' in chart.svg
        assert f'id="cases-{day.day.isoformat()}"' in chart.svg
    assert chart.png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(chart.png[16:20], "big"), int.from_bytes(chart.png[20:24], "big")
    assert width >= 1000 and height >= 500
    assert render_chart(days) == chart  # the same chart on every run

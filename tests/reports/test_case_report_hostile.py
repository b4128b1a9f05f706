"""A hostile alert — template syntax, HTML, entities, Slack mentions and links,
bidirectional overrides, Markdown, 100 KB — in every field the case has (title,
description, rule name, observables, notes, reasons, people, targets, tickets) renders
as inert text in every kind and format, clipped with a visible mark, and Slack's
blocks stay within Slack's limits."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from soar.reports.kinds import ReportFormat, ReportKind
from soar.reports.service import Rendered, render_case_report
from soar.reports.slack_blocks import (
    CONTEXT_ELEMENTS,
    CONTEXT_TEXT,
    FIELD_TEXT,
    HEADER_TEXT,
    MESSAGE_BLOCKS,
    SECTION_FIELDS,
    SECTION_TEXT,
)
from soar.reports.text import TRUNCATION_MARK
from soar.store.db import Store
from tests.reports.seed import HUGE, SeededCase, seed_case
from tests.reports.test_case_report_formats import NOW, markdown_html, settings_for
from tests.store import conftest as stores

empty_store = stores.empty_store
store = stores.store

LITERALS = ("{{ 7*7 }}", "{% raw %}raw{% endraw %}", "<script>alert(1)</script>", "&amp; &lt;b&gt;")
"""What the reader must see as written: neither evaluated nor parsed."""
MARKUP = ("<!channel>", "<@U123>", "<https://evil.example|click here>", "<script")
"""What must never reach Slack or a browser unescaped."""
INVISIBLE = ("\u202e", "\u202c", "\u200b")


class Elements(HTMLParser):
    """The tags, links and text of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.attributes: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]
        self.hrefs += [value or "" for name, value in attrs if name == "href"]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(html: str) -> Elements:
    elements = Elements()
    elements.feed(html)
    return elements


def assert_inert_html(html: str, seeded: SeededCase, *, allowed_tags: set[str]) -> None:
    """Only the template's own elements and links; the hostile text shown as text."""
    elements = parsed(html)
    assert set(elements.tags) <= allowed_tags, set(elements.tags) - allowed_tags
    assert not [name for name in elements.attributes if name.startswith("on")]
    assert set(elements.hrefs) <= {seeded.ticket_url, *SIEM_LINKS}
    text = "".join(elements.text)
    for literal in LITERALS + MARKUP[:3]:
        assert literal in text, literal
    assert TRUNCATION_MARK in text


SIEM_LINKS = {f"https://siem.example/alerts/{n}" for n in range(3)}
REPORT_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "body",
    "div",
    "h1",
    "h2",
    "h3",
    "p",
    "span",
    "table",
    "tr",
    "th",
    "td",
    "ul",
    "ol",
    "li",
    "blockquote",
    "a",
}
MARKDOWN_TAGS = {
    "h1",
    "h2",
    "h3",
    "p",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "ul",
    "ol",
    "li",
    "blockquote",
    "a",
    "em",
    "strong",
}


def slack_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text of every block."""
    texts: list[str] = []
    for block in blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [field["text"] for field in block.get("fields", [])]
        texts += [element["text"] for element in block.get("elements", [])]
    return texts


def assert_within_slack_limits(blocks: list[dict[str, Any]]) -> None:
    assert 0 < len(blocks) <= MESSAGE_BLOCKS
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER_TEXT
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= SECTION_TEXT
            assert len(block.get("fields", [])) <= SECTION_FIELDS
            assert all(len(field["text"]) <= FIELD_TEXT for field in block.get("fields", []))
        if block["type"] == "context":
            assert len(block["elements"]) <= CONTEXT_ELEMENTS
            assert all(len(element["text"]) <= CONTEXT_TEXT for element in block["elements"])


def assert_inert_slack(rendered: Rendered, seeded: SeededCase) -> None:
    assert rendered.blocks is not None
    assert_within_slack_limits(rendered.blocks)
    texts = [*slack_texts(rendered.blocks), rendered.text]
    ours = re.compile(re.escape(f"<{seeded.ticket_url}|") + r"[^<>]*>")
    for text in texts:
        assert "<" not in ours.sub("", text), text[:300]
        assert not any(mark in text for mark in INVISIBLE)
    joined = "\n".join(texts)
    assert "&lt;!channel&gt;" in joined and "&lt;@U123&gt;" in joined
    assert "&lt;https://evil.example|click here&gt;" in joined
    assert "{{ 7*7 }}" in joined and "{% raw %}raw{% endraw %}" in joined
    assert TRUNCATION_MARK in joined


@pytest.fixture
async def hostile(store: Store) -> SeededCase:
    return await seed_case(store, hostile=HUGE)


@pytest.mark.parametrize("kind", list(ReportKind))
@pytest.mark.parametrize("format", list(ReportFormat))
async def test_a_hostile_case_renders_as_inert_text(
    store: Store, hostile: SeededCase, tmp_path: Path, kind: ReportKind, format: ReportFormat
) -> None:
    rendered = await render_case_report(
        store, hostile.case_id, kind, format, settings_for(tmp_path), now=NOW
    )

    assert len(rendered.text) < 200_000  # clipped: three fields of 100 KB would be more
    assert not any(mark in rendered.text for mark in INVISIBLE)
    assert "49 raw" not in rendered.text  # {{ 7*7 }} {% raw %}raw… never ran
    if format is ReportFormat.SLACK:
        assert_inert_slack(rendered, hostile)
    elif format is ReportFormat.HTML:
        assert_inert_html(rendered.text, hostile, allowed_tags=REPORT_TAGS)
    else:
        for mark in MARKUP:
            assert mark not in rendered.text
        assert_inert_html(markdown_html(rendered.text), hostile, allowed_tags=MARKDOWN_TAGS)
        headings = re.findall(r"^# ", rendered.text, flags=re.MULTILINE)
        assert len(headings) == 1  # the title's own, no `# heading` from the alert


async def test_the_hostile_summary_still_tells_the_story(
    store: Store, hostile: SeededCase, tmp_path: Path
) -> None:
    rendered = await render_case_report(
        store,
        hostile.case_id,
        ReportKind.ESCALATION,
        ReportFormat.SLACK,
        settings_for(tmp_path),
        now=NOW,
    )
    assert rendered.blocks is not None
    joined = json.dumps(rendered.blocks)
    for part in ("*What happened*", "*Impact*", "*Containment*", "*Approvals*", "*Next steps*"):
        assert part in joined
    assert "203.0.113.7" in joined

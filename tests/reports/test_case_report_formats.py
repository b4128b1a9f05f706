"""Every kind of case report in every format, from the real store through the shipped
templates (or an operator's): the seeded case's figures come out in each, Markdown
renders as the document it claims to be, Slack blocks are blocks Slack takes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from soar.errors import NotFoundError
from soar.reports.kinds import ReportFormat, ReportKind
from soar.reports.service import ReportConfigError, render_case_report, template_name
from soar.settings import Settings
from soar.store.db import Store
from tests.conftest import make_settings
from tests.reports.seed import ATTACKER, LAPTOP, VICTIM, SeededCase, inventory_file, seed_case
from tests.store import conftest as stores
from tests.store.factories import at

NOW = at(40)

empty_store = stores.empty_store
store = stores.store


def settings_for(directory: Path, templates: Path | None = None) -> Settings:
    """Settings with the seeded inventory and, optionally, a templates directory."""
    reports = {"templates_dir": templates} if templates else {}
    return make_settings(directory, inventory_file=inventory_file(directory), reports=reports)


def markdown_html(text: str) -> str:
    """Markdown as CommonMark (raw HTML allowed, as most renderers do) with tables."""
    return MarkdownIt("commonmark").enable("table").render(text)


def slack_text(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


FIGURES = (ATTACKER, LAPTOP, VICTIM, "SEC-42", "2025-03-01 13:07 UTC", "group:soc-leads")
"""What every kind shows of the seeded case: the attacker, the critical laptop, the VIP,
the ticket, when the block lapses, who must decide."""


@pytest.mark.parametrize("kind", list(ReportKind))
@pytest.mark.parametrize("format", list(ReportFormat))
async def test_every_kind_in_every_format_shows_the_case(
    store: Store, tmp_path: Path, kind: ReportKind, format: ReportFormat
) -> None:
    seeded = await seed_case(store)
    rendered = await render_case_report(
        store, seeded.case_id, kind, format, settings_for(tmp_path), now=NOW
    )

    assert (rendered.kind, rendered.format) == (kind, format)
    shown = slack_text(rendered.blocks) if rendered.blocks is not None else rendered.text
    for figure in FIGURES:
        assert figure in shown, figure
    assert seeded.title in shown
    assert "critical" in shown.lower() and "VIP" in shown
    if format is ReportFormat.SLACK:
        assert rendered.blocks and rendered.blocks[0]["type"] == "header"
        assert rendered.text == f"{kind.label} of case {seeded.case_id}: {seeded.title}"
        assert f"<{seeded.ticket_url}|SEC-42>" in shown
    else:
        assert rendered.blocks is None
    if format is ReportFormat.MARKDOWN:
        assert f'<a href="{seeded.ticket_url}">SEC-42</a>' in markdown_html(rendered.text)
    if format is ReportFormat.HTML:
        assert rendered.text.startswith("<!DOCTYPE html>")
        assert f'<a href="{seeded.ticket_url}"' in rendered.text


async def test_the_escalation_summary_has_every_part(store: Store, tmp_path: Path) -> None:
    seeded = await seed_case(store)
    rendered = await render_case_report(
        store,
        seeded.case_id,
        ReportKind.ESCALATION,
        ReportFormat.MARKDOWN,
        settings_for(tmp_path),
        now=NOW,
    )
    html = markdown_html(rendered.text)

    headings = [
        "What happened",
        "Impact",
        "Findings",
        "Containment",
        "Approvals",
        "Tickets",
        "Escalation",
        "Timeline",
        "Next steps",
        "Open risks",
    ]
    assert [h for h in headings if f"<h2>{h}</h2>" in html] == headings
    assert html.count("<table>") == 7  # facts, hosts, users, findings, actions, approvals, timeline
    assert "<td>carol (approve, 2025-03-01 12:06 UTC: clearly hostile)</td>" in html
    assert "<td>bob at 2025-03-01 12:17 UTC</td>" in html
    assert "<td>stopped: acknowledged by bob (policy critical-15m)</td>" in html
    assert "<td>in effect</td>" in html and "<td>failed: no host named" in html


async def test_the_tactical_report_is_conditions_actions_needs(
    store: Store, tmp_path: Path
) -> None:
    seeded = await seed_case(store)
    rendered = await render_case_report(
        store,
        seeded.case_id,
        ReportKind.TACTICAL,
        ReportFormat.SLACK,
        settings_for(tmp_path),
        now=NOW,
    )
    assert rendered.blocks is not None
    sections = [
        str(block["text"]["text"]).split("\n")[0]  # type: ignore[index]
        for block in rendered.blocks
        if block["type"] == "section"
    ]
    assert sections == ["*Conditions*", "*Actions*", "*Needs*", "*Open risks*"]


async def test_an_operator_template_replaces_only_its_own(store: Store, tmp_path: Path) -> None:
    seeded = await seed_case(store)
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / template_name(ReportKind.EXECUTIVE, ReportFormat.MARKDOWN)).write_text(
        "Board note for {{ report.case_id|md }}: {{ report.title|md }}, "
        "{{ report.actions_in_effect|length }} containment in effect.\n",
        encoding="utf-8",
    )
    settings = settings_for(tmp_path, templates)

    executive = await render_case_report(
        store, seeded.case_id, ReportKind.EXECUTIVE, ReportFormat.MARKDOWN, settings, now=NOW
    )
    escalation = await render_case_report(
        store, seeded.case_id, ReportKind.ESCALATION, ReportFormat.MARKDOWN, settings, now=NOW
    )

    assert executive.text == (
        f"Board note for {seeded.case_id}: {seeded.title}, 1 containment in effect.\n"
    )
    assert escalation.text.startswith(f"# Escalation summary: {seeded.title}")


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{% if %}", "Expected an expression"),
        ("{{ report.no_such_field }}", "has no attribute 'no_such_field'"),
        ("{{ report.__class__.__mro__ }}", "unsafe"),
    ],
)
async def test_a_broken_override_is_one_clear_error(
    store: Store, tmp_path: Path, source: str, problem: str
) -> None:
    seeded = await seed_case(store)
    templates = tmp_path / "templates"
    templates.mkdir()
    name = template_name(ReportKind.ESCALATION, ReportFormat.HTML)
    (templates / name).write_text(source, encoding="utf-8")

    with pytest.raises(ReportConfigError) as raised:
        await render_case_report(
            store,
            seeded.case_id,
            ReportKind.ESCALATION,
            ReportFormat.HTML,
            settings_for(tmp_path, templates),
            now=NOW,
        )
    assert str(raised.value).startswith(
        f"report template {name} from reports.templates_dir ({templates}): "
    )
    assert problem in str(raised.value)


async def test_a_slack_override_that_writes_no_blocks_is_named(
    store: Store, tmp_path: Path
) -> None:
    seeded = await seed_case(store)
    templates = tmp_path / "templates"
    templates.mkdir()
    name = template_name(ReportKind.TACTICAL, ReportFormat.SLACK)
    (templates / name).write_text("*{{ report.title|mrkdwn }}*\n", encoding="utf-8")

    with pytest.raises(ReportConfigError, match=f"{name} .*: line 1 is not a JSON block"):
        await render_case_report(
            store,
            seeded.case_id,
            ReportKind.TACTICAL,
            ReportFormat.SLACK,
            settings_for(tmp_path, templates),
            now=NOW,
        )


async def test_an_unreadable_inventory_names_the_setting(store: Store, tmp_path: Path) -> None:
    seeded: SeededCase = await seed_case(store)
    broken = tmp_path / "inventory.yaml"
    broken.write_text("hosts: [not, a, mapping]\n", encoding="utf-8")
    settings = make_settings(tmp_path, inventory_file=broken)

    with pytest.raises(ReportConfigError, match=r"^inventory_file: .*inventory.yaml:1: "):
        await render_case_report(
            store, seeded.case_id, ReportKind.EXECUTIVE, ReportFormat.HTML, settings, now=NOW
        )


async def test_an_unknown_case_is_not_found(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no case with id 'case-missing'"):
        await render_case_report(
            store,
            "case-missing",
            ReportKind.ESCALATION,
            ReportFormat.MARKDOWN,
            settings_for(tmp_path),
            now=NOW,
        )

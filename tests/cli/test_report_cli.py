"""`soar report case ID`: the case summary rendered by the real `soar` command from the
case store its configuration names, as a user runs it (in a thread: it runs its own
event loop), to stdout or a file, in each format and kind."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from soar.cli.main import app as soar_cli
from soar.reports.slack_blocks import MESSAGE_BLOCKS
from soar.store.db import Store
from tests.reports.seed import ATTACKER, LAPTOP, SeededCase, inventory_file, seed_case


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    return directory


@pytest.fixture
async def seeded(data_dir: Path) -> SeededCase:
    """The case, in the store of `data_dir` (where the configuration points)."""
    store = Store(f"sqlite+aiosqlite:///{data_dir / 'soar.sqlite3'}")
    await store.migrate()
    try:
        return await seed_case(store)
    finally:
        await store.close()


def configure(tmp_path: Path, data_dir: Path, templates: Path | None = None) -> Path:
    config = tmp_path / "soar.toml"
    lines = [f'data_dir = "{data_dir}"', f'inventory_file = "{inventory_file(tmp_path)}"']
    if templates is not None:
        lines += ["[reports]", f'templates_dir = "{templates}"']
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


async def soar(config: Path, *args: str) -> Result:
    env = {"SOAR_CONFIG": str(config), "COLUMNS": "200"}
    return await asyncio.to_thread(CliRunner().invoke, soar_cli, list(args), env=env)


async def test_each_format_prints_the_report(
    tmp_path: Path, data_dir: Path, seeded: SeededCase
) -> None:
    config = configure(tmp_path, data_dir)

    markdown = await soar(config, "report", "case", seeded.case_id)
    tactical = await soar(config, "report", "case", seeded.case_id, "--kind", "tactical")
    slack = await soar(config, "report", "case", seeded.case_id, "--format", "slack")

    for result in (markdown, tactical, slack):
        assert result.exit_code == 0, result.output
    assert markdown.stdout.startswith(f"# Escalation summary: {seeded.title}\n")
    assert f"| {LAPTOP} | host | critical | j.doe |" in markdown.stdout
    assert tactical.stdout.startswith(f"# Tactical report: {seeded.title}\n")
    assert "## Conditions" in tactical.stdout and "## Needs" in tactical.stdout
    message = json.loads(slack.stdout)
    assert message["text"] == f"Escalation summary of case {seeded.case_id}: {seeded.title}"
    assert 0 < len(message["blocks"]) <= MESSAGE_BLOCKS
    assert ATTACKER in json.dumps(message["blocks"])


async def test_output_writes_the_file(tmp_path: Path, data_dir: Path, seeded: SeededCase) -> None:
    config = configure(tmp_path, data_dir)
    target = tmp_path / "summary.html"

    result = await soar(
        config, "report", "case", seeded.case_id, "--format", "html", "--output", str(target)
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote the escalation summary of case {seeded.case_id} to {target}\n"
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and seeded.ticket_url in html


async def test_refusals_are_one_line_and_a_non_zero_exit(
    tmp_path: Path, data_dir: Path, seeded: SeededCase
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "case_executive.md.j2").write_text("{% for %}", encoding="utf-8")
    config = configure(tmp_path, data_dir, templates)

    unknown = await soar(config, "report", "case", "case-nope")
    bad_format = await soar(config, "report", "case", seeded.case_id, "--format", "pdf")
    broken = await soar(config, "report", "case", seeded.case_id, "--kind", "executive")
    unwritable = await soar(
        config, "report", "case", seeded.case_id, "--output", str(tmp_path / "no" / "such.md")
    )

    assert (unknown.exit_code, unknown.stderr) == (1, "error: no case with id 'case-nope'\n")
    assert bad_format.exit_code == 2 and "'pdf' is not one of" in bad_format.stderr
    assert broken.exit_code == 2
    assert broken.stderr.startswith(
        "error: report template case_executive.md.j2 from reports.templates_dir"
    )
    assert unwritable.exit_code == 1
    assert unwritable.stderr.startswith(f"error: cannot write {tmp_path / 'no' / 'such.md'}: ")

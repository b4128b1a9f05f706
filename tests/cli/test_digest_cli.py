"""`soar report digest`: the digest rendered by the real `soar` command from the case
store its configuration names (in a thread: it runs its own event loop), with the
figures of the seeded store worked out independently, in each format, to stdout or a
file; bad options are one line naming the option."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from soar.cli.main import app as soar_cli
from soar.reports.digest_window import recent_window
from soar.reports.slack_blocks import MESSAGE_BLOCKS
from soar.store.db import Store
from tests.reports.digest_seed import TIMEZONE, Scenario, expected_period, scenario, seed

UNTIL = "2026-03-30T00:00"
"""Midnight in Paris (the configured zone), when the clocks have just gone forward."""
END = datetime(2026, 3, 29, 22, 0, tzinfo=UTC)


@pytest.fixture
async def seeded(tmp_path: Path) -> tuple[Path, Scenario]:
    """The configuration file, and what its store holds."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    drawn = scenario(recent_window(timedelta(days=7), END, TIMEZONE))
    store = Store(f"sqlite+aiosqlite:///{data_dir / 'soar.sqlite3'}")
    await store.migrate()
    try:
        await seed(store, drawn)
    finally:
        await store.close()
    config = tmp_path / "soar.toml"
    config.write_text(
        f'data_dir = "{data_dir}"\n[reports]\ntimezone = "{TIMEZONE}"\n', encoding="utf-8"
    )
    return config, drawn


async def soar(config: Path, *args: str) -> Result:
    env = {"SOAR_CONFIG": str(config), "COLUMNS": "200"}
    return await asyncio.to_thread(
        CliRunner().invoke, soar_cli, ["report", "digest", *args], env=env
    )


async def test_each_format_has_the_seeded_figures(seeded: tuple[Path, Scenario]) -> None:
    config, drawn = seeded
    window = drawn.window
    expected = expected_period(drawn, window.start, window.end)
    before = expected_period(drawn, window.previous_start, window.start)

    markdown = await soar(config, "--since", "7d", "--until", UNTIL)
    html = await soar(config, "--since", "7d", "--until", UNTIL, "--format", "html")
    slack = await soar(config, "--since", "7d", "--until", "2026-03-29T22:00Z", "--format", "slack")

    for result in (markdown, html, slack):
        assert result.exit_code == 0, result.output
    assert markdown.stdout.startswith("# Digest: the last 7 days\n")
    assert f"| Alerts | {expected['alerts']} | {before['alerts']} |" in markdown.stdout
    assert f"| Cases opened | {expected['cases_opened']} |" in markdown.stdout
    assert "2026-03-22 23:00 to 2026-03-30 00:00 Europe/Paris" in markdown.stdout  # 168 hours
    assert html.stdout.startswith("<!DOCTYPE html>") and 'id="alerts-2026-03-29"' in html.stdout
    message = json.loads(slack.stdout)
    assert message["text"].startswith("Digest: the last 7 days: ")
    assert 0 < len(message["blocks"]) <= MESSAGE_BLOCKS
    assert f"Alerts: *{expected['alerts']}*" in json.dumps(message["blocks"])


async def test_output_writes_the_file(seeded: tuple[Path, Scenario], tmp_path: Path) -> None:
    config, _ = seeded
    target = tmp_path / "digest.html"

    result = await soar(config, "--since", "24h", "--format", "html", "--output", str(target))

    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote the digest of the last 24 hours to {target}\n"
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "7 days"], "--since: '7 days' is not a duration such as 3600, 30m, 2h or 1d"),
        (["--since", "0"], "--since: '0' must be more than 0 and at most 366d"),
        (["--since", "400d"], "--since: '400d' must be more than 0 and at most 366d"),
        (["--until", "yesterday"], "--until: 'yesterday' is not a time such as 2026-03-30T00:00"),
    ],
)
async def test_a_bad_option_is_one_line_naming_it(
    seeded: tuple[Path, Scenario], args: list[str], message: str
) -> None:
    config, _ = seeded

    result = await soar(config, *args)

    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {message}"
    assert "Traceback" not in result.output

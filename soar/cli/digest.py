"""`soar report digest [--since 7d] [--until TIME] [--format md|html|slack] [--output FILE]`:
a digest on demand, from the case store the configuration names.

It covers `--since` (`3600`, `90m`, `24h`, `7d`; at most a year) up to `--until` (an
ISO 8601 time, in `[reports] timezone` when it names no zone; default now), each figure
against the same length before it, counted by day in `[reports] timezone` — the same
figures and templates as the scheduled digests. Markdown and HTML (the chart inline)
are printed or written to FILE; Slack comes as the JSON `{"text", "blocks"}` of
`chat.postMessage` (the scheduled digest uploads the chart beside it).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError

from soar.cli.output import print_error
from soar.durations import seconds_in
from soar.reports.digest import RenderedDigest, build_digest, render_digest
from soar.reports.digest_window import DigestWindow, recent_window
from soar.reports.kinds import ReportFormat
from soar.reports.service import ReportConfigError
from soar.settings import Settings, config_path, load_settings, setting_problems
from soar.store.db import Store

LONGEST = timedelta(days=366)


def _fail(message: str, code: int) -> typer.Exit:
    """Print `message` literally on stderr; the exit to raise."""
    print_error(message)
    return typer.Exit(code)


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as error:
        raise _fail(f"{config_path()}: {setting_problems(error)}", 2) from None


def _length(since: str) -> timedelta:
    try:
        seconds = seconds_in(since)
    except ValueError as error:
        raise _fail(f"--since: {error}", 2) from None
    if not 0 < seconds <= LONGEST.total_seconds():
        raise _fail(f"--since: {since!r} must be more than 0 and at most 366d", 2)
    return timedelta(seconds=seconds)


def _end(until: str | None, settings: Settings) -> datetime:
    if until is None:
        return datetime.now(UTC)
    try:
        end = datetime.fromisoformat(until.strip())
    except ValueError:
        raise _fail(f"--until: {until!r} is not a time such as 2026-03-30T00:00", 2) from None
    if end.tzinfo is None:
        end = end.replace(tzinfo=ZoneInfo(settings.reports.timezone))
    return end.astimezone(UTC)


async def _rendered(settings: Settings, window: DigestWindow) -> RenderedDigest:
    store = Store(settings.resolved_database_url())
    try:
        await store.migrate()
        digest = await build_digest(store.engine, window)
    finally:
        await store.close()
    return render_digest(digest, settings.reports.templates_dir)


def _document(rendered: RenderedDigest, format: ReportFormat) -> str:
    if format is ReportFormat.MARKDOWN:
        return rendered.markdown
    if format is ReportFormat.HTML:
        return rendered.html
    message = {"text": rendered.slack_text, "blocks": rendered.slack_blocks}
    return json.dumps(message, indent=2, ensure_ascii=False) + "\n"


def digest(
    since: Annotated[
        str, typer.Option("--since", help="How far back: 3600, 90m, 24h, 7d (at most 366d).")
    ] = "7d",
    until: Annotated[
        str | None,
        typer.Option("--until", help="The end, ISO 8601 (default now; [reports] timezone)."),
    ] = None,
    format: Annotated[
        ReportFormat,
        typer.Option("--format", help="md, html (ready for e-mail) or slack (Block Kit JSON)."),
    ] = ReportFormat.MARKDOWN,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write it to FILE instead.")
    ] = None,
) -> None:
    """Management's digest: alerts, cases, response times, SLAs and containment against
    the period before."""
    settings = _settings()
    window = recent_window(_length(since), _end(until, settings), settings.reports.timezone)
    try:
        rendered = asyncio.run(_rendered(settings, window))
    except ReportConfigError as error:
        raise _fail(error.message, 2) from None
    document = _document(rendered, format)
    if output is None:
        typer.echo(document, nl=False)
        return
    try:
        output.write_text(document, encoding="utf-8")
    except OSError as error:
        raise _fail(f"cannot write {output}: {error.strerror or error}", 1) from None
    typer.echo(f"Wrote the digest of the {window.label} to {output}")

"""`soar doctor`: check config, Temporal, the spool, the store and Slack, each with a verdict."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from soar.ingest.spool import Spool
from soar.runtime.temporal_client import connect
from soar.runtime.temporal_server import TemporalBinaryNotFound, temporal_binary
from soar.settings import Settings, config_path, load_settings

OK, WARN, FAIL = "ok", "warning", "failed"


@dataclass(frozen=True)
class Check:
    name: str
    verdict: str
    detail: str


def check_config() -> tuple[Settings | None, Check]:
    path = config_path()
    try:
        settings = load_settings()
    except ValidationError as error:
        return None, Check(
            "config", FAIL, f"{path}: {error.error_count()} invalid setting(s): {error}"
        )
    where = str(path) if path.is_file() else "no config file; environment and defaults"
    missing = [
        name
        for name, value in (
            ("webhook_token", settings.webhook_token),
            ("api_token", settings.api_token),
        )
        if value is None
    ]
    if missing:
        return settings, Check("config", WARN, f"{where}; not set: {', '.join(missing)}")
    return settings, Check("config", OK, where)


async def check_temporal(settings: Settings) -> Check:
    target = settings.temporal.target()
    try:
        client = await asyncio.wait_for(connect(settings.temporal), 5)
        await asyncio.wait_for(client.service_client.check_health(), 5)
    except Exception as error:
        hint = ""
        if settings.temporal.embedded:
            try:
                hint = f"; embedded binary {temporal_binary()} (start it with `soar up`)"
            except TemporalBinaryNotFound as missing:
                hint = f"; {missing}"
        return Check("temporal", FAIL, f"{target} unreachable: {type(error).__name__}{hint}")
    return Check("temporal", OK, f"{target} namespace {settings.temporal.namespace} reachable")


def check_spool(settings: Settings) -> Check:
    try:
        spool = Spool(settings.spool_path)
    except Exception as error:
        return Check("spool", FAIL, f"{settings.spool_path}: {error}")
    depth = spool.depth
    spool.close()
    verdict = OK if depth == 0 else WARN
    return Check("spool", verdict, f"{settings.spool_path}: {depth} alert(s) waiting for Temporal")


def check_slack(settings: Settings) -> Check:
    if settings.slack_enabled:
        mode = "Socket Mode" if settings.slack_app_token else "HTTP mode at /slack/events"
        return Check("slack", OK, f"on ({mode})")
    return Check("slack", OK, "off: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET not set")


def doctor() -> None:
    """Check each part and say what is wrong; exits 1 when a check failed."""
    settings, config = check_config()
    checks = [config]
    if settings is not None:
        checks += [
            asyncio.run(check_temporal(settings)),
            check_spool(settings),
            check_slack(settings),
        ]
    table = Table("check", "verdict", "detail")
    colours = {OK: "green", WARN: "yellow", FAIL: "red"}
    for check in checks:
        table.add_row(check.name, f"[{colours[check.verdict]}]{check.verdict}[/]", check.detail)
    Console().print(table)
    if any(check.verdict == FAIL for check in checks):
        raise typer.Exit(1)

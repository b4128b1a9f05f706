"""`soar doctor`: check config, Temporal and its search attributes, the spool and its parked
alerts, and Slack, each with a verdict."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import typer
from aiohttp import ClientError
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from slack_sdk.errors import SlackApiError
from temporalio.client import Client

from bot.clients import api_url, web_client
from bot.settings import slack_mode, slack_settings
from soar import search_attributes
from soar.ingest.spool import Spool
from soar.ingest.start_errors import describe
from soar.runtime.search_attribute_setup import how_to_add, missing_search_attributes
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


async def check_temporal(settings: Settings) -> list[Check]:
    """Whether Temporal answers and, when it does, whether it knows our search attributes."""
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
        return [Check("temporal", FAIL, f"{target} unreachable: {type(error).__name__}{hint}")]
    reachable = Check("temporal", OK, f"{target} namespace {settings.temporal.namespace} reachable")
    return [reachable, await check_search_attributes(client)]


async def check_search_attributes(client: Client) -> Check:
    """Without them no case workflow can tag its case, so no case moves on."""
    namespace = client.namespace
    try:
        missing = await asyncio.wait_for(missing_search_attributes(client), 5)
    except Exception as error:
        return Check(
            "search attributes", WARN, f"cannot list them in {namespace}: {describe(error)}"
        )
    if not missing:
        count = len(search_attributes.ALL)
        return Check("search attributes", OK, f"all {count} registered in namespace {namespace}")
    names = ", ".join(key.name for key in missing)
    return Check(
        "search attributes",
        WARN,
        f"missing in namespace {namespace}: {names}; `soar up`, `soar api` and `soar worker` "
        f"add them at start-up where allowed, else run {how_to_add(missing, namespace)}",
    )


async def check_spool(settings: Settings) -> list[Check]:
    """Alerts waiting for Temporal, and alerts Temporal refused (parked)."""
    try:
        spool = Spool(settings.spool_path)
    except Exception as error:
        return [Check("spool", FAIL, f"{settings.spool_path}: {error}")]
    try:
        depth, parked = spool.depth, spool.count_parked()
        latest = await spool.parked(1)
    finally:
        spool.close()
    waiting = Check(
        "spool",
        OK if depth == 0 else WARN,
        f"{settings.spool_path}: {depth} alert(s) waiting for Temporal",
    )
    if not latest:
        return [waiting, Check("parked alerts", OK, "none: Temporal refused no alert")]
    last = latest[0]
    return [
        waiting,
        Check(
            "parked alerts",
            WARN,
            f"{parked} alert(s) Temporal refused; latest {last.alert.id} at "
            f"{last.parked_at:%Y-%m-%d %H:%M:%S}Z: {last.error}; fix the cause, then run "
            "`soar spool retry`",
        ),
    ]


async def check_slack(settings: Settings) -> list[Check]:
    """Which Slack parts run (posting, HTTP events, Socket Mode), whether the bot token
    works (`auth.test`), and whether there is a channel to post in."""
    mode = slack_mode(settings)
    if not mode.posts:
        detail = "off: SLACK_BOT_TOKEN not set (everything else runs without Slack)"
        if settings.slack_signing_secret or settings.slack_app_token:
            return [Check("slack", WARN, detail + "; the other Slack settings are ignored")]
        return [Check("slack", OK, detail)]
    transports = [
        name
        for name, on in (
            ("HTTP at /slack/events", mode.http),
            ("Socket Mode", mode.socket),
        )
        if on
    ]
    checks = [
        Check("slack", OK, f"on: posting, and taking clicks by {' and '.join(transports)}")
        if transports
        else Check(
            "slack",
            WARN,
            "posting only: set SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) "
            "so that buttons and /soar reach the bot",
        )
    ]
    checks.append(await _slack_token(settings))
    slack = slack_settings(settings)
    if not (slack.default_channel or slack.channels):
        checks.append(
            Check("slack channels", WARN, "none: set slack.default_channel or slack.channels")
        )
    return checks


async def _slack_token(settings: Settings) -> Check:
    client = web_client(settings, interactive=False)
    try:
        answer = await client.auth_test()
    except SlackApiError as error:
        return Check("slack token", FAIL, f"refused by Slack: {error.response.get('error')}")
    except (OSError, TimeoutError, ClientError) as error:
        return Check("slack token", FAIL, f"Slack not reachable at {api_url(settings)}: {error}")
    return Check("slack token", OK, f"works: {answer.get('user')} in {answer.get('team')}")


async def _checks(settings: Settings) -> list[Check]:
    return [
        *await check_temporal(settings),
        *await check_spool(settings),
        *await check_slack(settings),
    ]


def doctor() -> None:
    """Check each part and say what is wrong; exits 1 when a check failed."""
    settings, config = check_config()
    checks = [config]
    if settings is not None:
        checks += asyncio.run(_checks(settings))
    table = Table("check", "verdict", "detail")
    colours = {OK: "green", WARN: "yellow", FAIL: "red"}
    for check in checks:
        table.add_row(
            check.name, f"[{colours[check.verdict]}]{check.verdict}[/]", escape(check.detail)
        )
    Console().print(table)
    if any(check.verdict == FAIL for check in checks):
        raise typer.Exit(1)

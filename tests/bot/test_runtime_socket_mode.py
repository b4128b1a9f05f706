"""`soar up` and `soar api` start the bot over Socket Mode by themselves when
SLACK_APP_TOKEN is set. The runtime's API part (`stack.run` with only `api`: no embedded
Temporal, no worker) runs against the session's Temporal dev server and the fake Slack:
with the app token it opens the fake's WebSocket and acknowledges a slash command
envelope on it; without one it opens no socket and serves Slack over HTTP alone."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from temporalio.client import Client

from soar.runtime import stack
from soar.settings import Settings, TemporalSettings
from soar.testing.fake_slack import FakeSlack, signed_headers
from tests.conftest import free_port, unique

from .support import ALICE, APP_TOKEN, DEFAULT_CHANNEL, SIGNING_SECRET, TEAM, bot_settings, texts

API_ONLY = stack.Parts(temporal=False, worker=False, api=True)
CONNECT_WITHIN = 2.0
"""Seconds the runtime takes, once ready, to open Slack's WebSocket when it is to."""


def runtime_settings(
    directory: Path, fake: FakeSlack, temporal: Client, *, app_token: bool
) -> Settings:
    """The product's settings as `soar api` reads them: Slack on against the fake, the
    dev server as the Temporal cluster, a free port for the API."""
    overrides: dict[str, object] = {
        "api_port": free_port(),
        "temporal": TemporalSettings(
            address=temporal.service_client.config.target_host,
            task_queue=f"soar-runtime-{unique()}",
            rpc_timeout_seconds=2.0,
        ),
    }
    if not app_token:
        overrides["slack_app_token"] = None
    return bot_settings(directory, fake, **overrides)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[None]:
    """The runtime's API part, ready; stopped (and its signal handlers removed) after."""
    ready, stop = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(stack.run(settings, API_ONLY, on_ready=ready.set, stop=stop))
    try:
        async with asyncio.timeout(20):
            waiting = asyncio.create_task(ready.wait())
            await asyncio.wait([waiting, task], return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
        assert not task.done(), task.result()
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


def slash_command(fake: FakeSlack, text: str, name: str) -> dict[str, str]:
    return {
        "team_id": TEAM,
        "channel_id": DEFAULT_CHANNEL,
        "user_id": ALICE,
        "command": "/soar",
        "text": text,
        "api_app_id": "A0SOAR",
        "response_url": fake.response_url(name),
        "trigger_id": uuid.uuid4().hex,
    }


async def test_with_an_app_token_the_runtime_serves_slash_commands_over_socket_mode(
    tmp_path: Path, fake_slack: FakeSlack, temporal_client: Client
) -> None:
    settings = runtime_settings(tmp_path, fake_slack, temporal_client, app_token=True)
    async with running(settings):
        opened = await fake_slack.wait_for("apps.connections.open", within=CONNECT_WITHIN)
        envelope = await fake_slack.send_envelope(
            "slash_commands", slash_command(fake_slack, "cases all", "socket")
        )
        ack = await fake_slack.wait_for_ack(envelope)
        assert ack["envelope_id"] == envelope
        reply = await fake_slack.wait_for_response()
        assert reply["name"] == "socket"
        assert "*Recent cases*" in texts(reply["blocks"])
    [call] = [c for c in fake_slack.calls if c.method == "apps.connections.open"]
    assert call.args == opened and call.token == APP_TOKEN


async def test_without_an_app_token_the_runtime_opens_no_socket(
    tmp_path: Path, fake_slack: FakeSlack, temporal_client: Client
) -> None:
    settings = runtime_settings(tmp_path, fake_slack, temporal_client, app_token=False)
    async with running(settings):
        body = urlencode(slash_command(fake_slack, "help", "http"))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}") as http:
            response = await http.post(
                "/slack/events", content=body, headers=signed_headers(body, SIGNING_SECRET)
            )
        assert response.status_code == 200
        reply = await fake_slack.wait_for_response()
        assert reply["name"] == "http" and "/soar case ID" in texts(reply["blocks"])
        with pytest.raises(TimeoutError):
            await fake_slack.wait_for("apps.connections.open", within=CONNECT_WITHIN)

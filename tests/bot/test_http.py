"""The bot over HTTP, mounted in the real API app: Slack's signature is checked before
anything happens, and `/soar` answers privately through the `response_url`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from temporalio.client import Client

from bot.app import mount_slack
from soar.api.app import create_app
from soar.runtime.services import build_services
from soar.store.db import Store
from soar.testing.fake_slack import FakeSlack
from tests.conftest import make_settings

from .support import MALLORY, SignedSlack, approval, texts


async def test_bad_signature_is_refused_and_nothing_happens(
    slack: SignedSlack, fake_slack: FakeSlack
) -> None:
    response = await slack.command("help", secret="not-the-signing-secret")
    assert response.status_code == 401
    await asyncio.sleep(0.3)
    assert fake_slack.calls == []
    assert fake_slack.responses == []


async def test_stale_timestamp_is_refused(slack: SignedSlack, fake_slack: FakeSlack) -> None:
    response = await slack.command("help", timestamp=int(time.time()) - 6 * 60)
    assert response.status_code == 401
    await asyncio.sleep(0.3)
    assert fake_slack.responses == []


async def test_unsigned_request_is_refused(slack: SignedSlack, fake_slack: FakeSlack) -> None:
    response = await slack.http.post(
        "/slack/events",
        content="command=%2Fsoar&text=help",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 401
    assert fake_slack.responses == []


async def test_help_is_answered_privately(slack: SignedSlack, fake_slack: FakeSlack) -> None:
    response = await slack.command("")
    assert response.status_code == 200
    answer = await fake_slack.wait_for_response()
    assert answer["response_type"] == "ephemeral"
    assert "/soar block-ip IP [TTL]" in texts(answer["blocks"])


async def test_unknown_command_gets_help(slack: SignedSlack, fake_slack: FakeSlack) -> None:
    await slack.command("frobnicate <!channel>")
    answer = await fake_slack.wait_for_response()
    shown = texts(answer["blocks"])
    assert "unknown command 'frobnicate'" in shown
    assert "/soar case ID" in shown


async def test_malformed_command_says_how_to_write_it(
    slack: SignedSlack, fake_slack: FakeSlack
) -> None:
    await slack.command("block-ip 10.1.2.3")
    shown = texts((await fake_slack.wait_for_response())["blocks"])
    assert "not a public address" in shown
    assert "Usage: `/soar block-ip IP [TTL]`" in shown


async def test_containment_needs_permission(slack: SignedSlack, fake_slack: FakeSlack) -> None:
    await slack.command("isolate ws-12", user=MALLORY)
    shown = texts((await fake_slack.wait_for_response())["blocks"])
    assert "not allowed to contain" in shown


async def test_pending_approvals_are_listed(
    slack: SignedSlack, fake_slack: FakeSlack, store: Store
) -> None:
    pending = approval(target="45.83.64.77")
    await store.upsert_approval(pending)
    await slack.command("approvals")
    shown = texts((await fake_slack.wait_for_response())["blocks"])
    assert "`45.83.64.77`" in shown
    assert "0 of 1" in shown


async def test_unknown_case_is_said(slack: SignedSlack, fake_slack: FakeSlack) -> None:
    await slack.command("case case-nope")
    shown = texts((await fake_slack.wait_for_response())["blocks"])
    assert "no case with id 'case-nope'" in shown


async def test_without_slack_settings_nothing_is_mounted(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    services = build_services(temporal_client, make_settings(tmp_path), store)
    try:
        app = create_app(services)
        mount_slack(app, services)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://soar.test") as http:
            response = await http.post("/slack/events", content="x")
            assert response.status_code in (404, 405)
            assert (await http.get("/healthz")).status_code != 500
    finally:
        services.spool.close()

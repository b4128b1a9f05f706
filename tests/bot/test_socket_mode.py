"""The same app over Socket Mode: the bot opens the fake's WebSocket with the app token,
acknowledges envelopes on it, and answers as it does over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from bot.app import run_socket_mode
from soar.api.deps import Services
from soar.testing.fake_slack import FakeSlack

from .support import ALICE, APP_TOKEN, DEFAULT_CHANNEL, TEAM, texts


async def test_socket_mode_serves_commands(bot_services: Services, fake_slack: FakeSlack) -> None:
    running = asyncio.create_task(run_socket_mode(bot_services))
    try:
        envelope = await fake_slack.send_envelope(
            "slash_commands",
            {
                "team_id": TEAM,
                "channel_id": DEFAULT_CHANNEL,
                "user_id": ALICE,
                "command": "/soar",
                "text": "help",
                "api_app_id": "A0SOAR",
                "response_url": fake_slack.response_url("socket"),
                "trigger_id": uuid.uuid4().hex,
            },
        )
        await fake_slack.wait_for_ack(envelope)
        answer = await fake_slack.wait_for_response()
        assert answer["name"] == "socket"
        assert "/soar case ID" in texts(answer["blocks"])
        [opened] = [c for c in fake_slack.calls if c.method == "apps.connections.open"]
        assert opened.token == APP_TOKEN
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

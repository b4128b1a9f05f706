"""Histories saved with Slack on replay on today's code.

`histories/case_with_slack.json` and `histories/malicious_ip_with_slack.json` were
recorded while the workflows called the chat-ops activities by their Slack names
(`slack.post_case_message`, …) and handed unsent posts to a `SlackDelivery` workflow:
a high alert opens a case and its approval request, alice approves in Slack, the
block is carried out, the case is escalated and closed. Running workflows of that
time must go on taking the same decisions. Re-record (on purpose) with::

    SOAR_RECORD_HISTORIES=1 pytest tests/bot/test_saved_histories.py
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from bot.ids import ActionId
from soar.cases.contract import case_workflow_id
from soar.cases.models import CaseState
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from soar.testing.fake_slack import FakeSlack
from tests.bot.flows import approval_posted, approve_values
from tests.bot.support import ALICE, SignedSlack, eventually
from tests.conftest import bearer
from workflows.case import CaseWorkflow
from workflows.sdk import playbook_workflows
from workflows.sdk.sandbox import workflow_runner

HISTORIES = Path(__file__).resolve().parents[1] / "workflows" / "histories"
RECORD = os.environ.get("SOAR_RECORD_HISTORIES") == "1"
SAVED = ("case_with_slack", "malicious_ip_with_slack")


def save(name: str, history: WorkflowHistory) -> None:
    saved = {"workflow_id": history.workflow_id, "history": history.to_json_dict()}
    (HISTORIES / f"{name}.json").write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")


def load(name: str) -> WorkflowHistory:
    saved = json.loads((HISTORIES / f"{name}.json").read_text(encoding="utf-8"))
    return WorkflowHistory.from_json(saved["workflow_id"], saved["history"])


async def record(
    client: Client,
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    actuator: RecordingActuator,
) -> None:
    """Run the scenario in the module docstring and save both histories."""
    address = f"45.83.{uuid.uuid4().int % 200 + 1}.{uuid.uuid4().int % 200 + 1}"
    alert = {
        "id": uuid.uuid4().hex,
        "title": f"SSH brute force from {address}",
        "severity": "high",
        "src_ip": address,
    }
    response = await slack.http.post("/webhooks/generic", json=alert, headers=bearer())
    assert response.status_code == 202, response.text
    request = await approval_posted(fake_slack, address)
    [approval_id] = approve_values(request.blocks)
    await slack.click(
        ActionId.APPROVE, approval_id, user=ALICE, channel=request.channel, ts=request.ts
    )
    approval = await store.get_approval(approval_id)
    assert approval is not None

    async def applied() -> bool:
        return bool(actuator.calls_to("apply"))

    assert await eventually(applied, within=30)
    playbook = client.get_workflow_handle(approval.workflow_id)
    await playbook.result()
    await slack.command(f"escalate {approval.case_id} the owner must know")
    await slack.command(f"close {approval.case_id} tp blocked at the edge")
    case_handle = client.get_workflow_handle(case_workflow_id(f"ip:{address}|ssh brute force from"))
    ended = await case_handle.result()
    assert ended["state"] == CaseState.CLOSED
    save("case_with_slack", await case_handle.fetch_history())
    save("malicious_ip_with_slack", await playbook.fetch_history())


async def test_histories_saved_with_slack_on_replay(
    temporal_client: Client,
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    slack_worker: Worker,
    actuator: RecordingActuator,
) -> None:
    if RECORD:
        await record(temporal_client, slack, fake_slack, store, actuator)
    replayer = Replayer(
        workflow_runner=workflow_runner(),
        workflows=[CaseWorkflow, *playbook_workflows()],
        data_converter=pydantic_data_converter,
    )
    for name in SAVED:
        history = load(name)
        assert "slack.post_" in json.dumps(history.to_json_dict()), name
        result = await replayer.replay_workflow(history)
        assert result.replay_failure is None, name

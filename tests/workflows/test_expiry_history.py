"""Saved histories of `ContainmentExpiryWorkflow` replay on today's code.

- `containment_expiry.json`: one expiry of a two-second block, recorded before a person
  could revert an action by hand. It is never re-recorded: it is what keeps the
  `revert-by-hand` patch honest (runs of that time sleep and read no store).
- `containment_expiry_reverted_by_hand.json`: a ten-minute block reverted by a person
  through the `revert_now` Update, recorded on today's code. Re-record it only on
  purpose, when a change must not reach running workflows, with::

    SOAR_RECORD_HISTORIES=1 pytest tests/workflows/test_expiry_history.py
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from soar.approvals.models import DecisionKind
from soar.containment import service
from soar.containment.contract import RevertRequest
from soar.containment.models import ActionState, ContainmentAction
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from tests.workflows.sdk_support import alert, harness
from workflows.sdk.expiry import ContainmentExpiryWorkflow
from workflows.sdk.models import expiry_workflow_id
from workflows.sdk.sandbox import workflow_runner

HISTORIES = Path(__file__).resolve().parent / "histories"
BEFORE_REVERT_BY_HAND = "containment_expiry"
REVERTED_BY_HAND = "containment_expiry_reverted_by_hand"
RECORD = os.environ.get("SOAR_RECORD_HISTORIES") == "1"


def save(name: str, history: WorkflowHistory) -> None:
    saved = {"workflow_id": history.workflow_id, "history": history.to_json_dict()}
    (HISTORIES / f"{name}.json").write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")


async def record_revert_by_hand(client: Client, store: Store) -> None:
    """Block an address for ten minutes through the test gate, revert it by hand once its
    expiry waits, and save the expiry workflow's history with its id."""
    async with harness(client, store, actuators=[RecordingActuator()]) as h:
        handle = await h.start(
            "sdk_gate",
            alert(f"by-hand-history-{uuid.uuid4().hex[:8]}"),
            dry_run=False,
            options={"address": "45.9.9.10", "duration": 600},
        )
        approval = await h.next_approval(handle)
        await h.decide(handle, approval.id, "alice", DecisionKind.APPROVE)
        [action] = (await h.finish(handle)).actions
        expiry = client.get_workflow_handle(expiry_workflow_id(action.id))
        assert (await expiry.describe()).status is WorkflowExecutionStatus.RUNNING
        done = await service.revert(
            client,
            store,
            action.id,
            RevertRequest(user="bob", reason="recorded for replay"),
            task_queue=h.task_queue,
            channels=[],
        )
        assert done.done and done.workflow_id == expiry.id
        ended = ContainmentAction.model_validate(await expiry.result())
        assert ended.state is ActionState.REVERTED
        save(REVERTED_BY_HAND, await expiry.fetch_history())


@pytest.mark.parametrize("name", [BEFORE_REVERT_BY_HAND, REVERTED_BY_HAND])
async def test_a_saved_expiry_history_replays(
    name: str, temporal_client: Client, store: Store
) -> None:
    if RECORD and name == REVERTED_BY_HAND:
        await record_revert_by_hand(temporal_client, store)
    path = HISTORIES / f"{name}.json"
    assert path.is_file(), f"no saved history {name}; record it with SOAR_RECORD_HISTORIES=1"
    saved = json.loads(path.read_text(encoding="utf-8"))
    history = WorkflowHistory.from_json(saved["workflow_id"], saved["history"])
    replayer = Replayer(
        workflow_runner=workflow_runner(),
        workflows=[ContainmentExpiryWorkflow],
        data_converter=pydantic_data_converter,
    )
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None

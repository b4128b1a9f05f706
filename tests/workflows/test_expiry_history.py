"""A containment expiry recorded before a person could revert an action by hand replays
on today's `ContainmentExpiryWorkflow`, which waits for either its time-to-live or a
`revert_now` Update (behind `workflow.patched`).

The history in `tests/workflows/histories/containment_expiry.json` is one expiry of a
two-second block, recorded on the code before the Update existed. Re-record it only on
purpose, with::

    SOAR_RECORD_HISTORIES=1 pytest tests/workflows/test_expiry_history.py
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from soar.approvals.models import DecisionKind
from soar.containment.models import ActionState, ContainmentAction
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from tests.workflows.sdk_support import alert, harness
from workflows.sdk.expiry import ContainmentExpiryWorkflow
from workflows.sdk.models import expiry_workflow_id
from workflows.sdk.sandbox import workflow_runner

SAVED = Path(__file__).resolve().parent / "histories" / "containment_expiry.json"
RECORD = os.environ.get("SOAR_RECORD_HISTORIES") == "1"


async def record(client: Client, store: Store) -> None:
    """Block an address for two seconds through the test gate, let it expire, and save
    the expiry workflow's history with its id."""
    async with harness(client, store, actuators=[RecordingActuator()]) as h:
        handle = await h.start(
            "sdk_gate",
            alert(f"expiry-history-{uuid.uuid4().hex[:8]}"),
            dry_run=False,
            options={"address": "45.9.9.9", "duration": 2},
        )
        approval = await h.next_approval(handle)
        await h.decide(handle, approval.id, "alice", DecisionKind.APPROVE)
        run = await h.finish(handle)
        [action] = run.actions
        expiry = client.get_workflow_handle(expiry_workflow_id(action.id))
        reverted = ContainmentAction.model_validate(await expiry.result())
        assert reverted.state is ActionState.REVERTED
        history = await expiry.fetch_history()
    saved = {"workflow_id": history.workflow_id, "history": history.to_json_dict()}
    SAVED.write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")


async def test_an_expiry_recorded_before_revert_by_hand_replays(
    temporal_client: Client, store: Store
) -> None:
    if RECORD:
        await record(temporal_client, store)
    assert SAVED.is_file(), "no saved expiry history; record it with SOAR_RECORD_HISTORIES=1"
    saved = json.loads(SAVED.read_text(encoding="utf-8"))
    history = WorkflowHistory.from_json(saved["workflow_id"], saved["history"])
    replayer = Replayer(
        workflow_runner=workflow_runner(),
        workflows=[ContainmentExpiryWorkflow],
        data_converter=pydantic_data_converter,
    )
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None

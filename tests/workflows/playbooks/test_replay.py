"""Saved histories of the built-in playbooks replay on today's code without
non-determinism errors.

The histories in `tests/workflows/histories/` were recorded from one typical run of
each built-in (see `scenarios.py`), each saved with its workflow id. Re-record them —
on purpose, when a playbook changes in a way running workflows must not see, which is
what `workflow.patched()` is for — with::

    SOAR_RECORD_HISTORIES=1 pytest tests/workflows/playbooks/test_replay.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from soar.store.db import Store
from tests.workflows.playbooks.scenarios import SCENARIOS, run_scenario
from tests.workflows.sdk_support import harness
from workflows.sdk import playbook_workflows
from workflows.sdk.sandbox import workflow_runner

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
RECORD = os.environ.get("SOAR_RECORD_HISTORIES") == "1"


def history_path(name: str) -> Path:
    return HISTORIES / f"{name}.json"


def save(name: str, history: WorkflowHistory) -> None:
    """The history with its workflow id: playbooks derive their ids from it, so a replay
    under another id would take other decisions."""
    saved = {"workflow_id": history.workflow_id, "history": history.to_json_dict()}
    history_path(name).write_text(json.dumps(saved, indent=2) + "\n", encoding="utf-8")


def load(name: str) -> WorkflowHistory:
    path = history_path(name)
    assert path.is_file(), f"no saved history for {name}; record it with SOAR_RECORD_HISTORIES=1"
    saved = json.loads(path.read_text(encoding="utf-8"))
    return WorkflowHistory.from_json(saved["workflow_id"], saved["history"])


async def record(client: Client, store: Store, name: str) -> None:
    """Run the built-in's scenario and save its history as JSON."""
    async with harness(client, store) as h:
        run, handle = await run_scenario(h, name)
    assert run.error is None, run.error
    save(name, await handle.fetch_history())


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_saved_history_replays(name: str, temporal_client: Client, store: Store) -> None:
    if RECORD:
        await record(temporal_client, store, name)
    history = load(name)
    replayer = Replayer(
        workflow_runner=workflow_runner(),
        workflows=playbook_workflows(),
        data_converter=pydantic_data_converter,
    )
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None

"""A worker killed with SIGKILL in the middle of a containment: the approved action is
carried out exactly once, and the case shows it.

A real `soar worker` process, configured with the Okta actuator against the Okta
emulator, runs the built-in `suspicious_user` playbook. Once alice approves, the
emulator carries out the suspend and holds its answer — the worker is killed right
then, not knowing whether its call took effect. A second worker picks the action up
when the first one's heartbeats stop; the actuator reads the account first, finds it
suspended, and does not suspend it again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHandle

from soar.alerts.models import (
    Observable,
    ObservableRole,
    ObservableType,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.approvals.models import APPROVALS_QUERY, ApprovalRequest, DecisionKind, DecisionRequest
from soar.approvals.service import send_decision
from soar.cases.contract import playbook_workflow_id
from soar.cases.models import Case
from soar.containment.models import ActionState, ContainmentVerb
from soar.store.db import Store
from soar.testing.emulators.okta import OktaEmulator
from tests.conftest import REPO_ROOT
from workflows.sdk.models import PlaybookInput, PlaybookResult

USER = "j.doe@example.com"
PICKED_UP_WITHIN = 60.0
"""The heartbeat timeout (15 s) plus the retry's first interval, with room for a busy
machine: the second worker must finish the action well inside this."""


class WorkerProcess(subprocess.Popen[bytes]):
    """`soar worker` with its output in a file."""

    def __init__(self, directory: Path, env: dict[str, str], run: int) -> None:
        self.log = directory / f"worker-{run}.log"
        with self.log.open("wb") as log:
            super().__init__(
                [sys.executable, "-m", "soar", "worker"],
                cwd=directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


@pytest.fixture
async def okta() -> AsyncIterator[OktaEmulator]:
    emulator = OktaEmulator()
    async with emulator:
        emulator.add_user(USER)
        yield emulator


@pytest.fixture
def worker_env(
    tmp_path: Path, temporal_client: Client, okta: OktaEmulator
) -> Iterator[dict[str, str]]:
    """A configuration of the test's own: its task queue, its store, the Okta actuator."""
    config = tmp_path / "soar.toml"
    config.write_text(
        'webhook_token = "w"\napi_token = "a"\n'
        f'database_url = "sqlite+aiosqlite:///{tmp_path / "store.sqlite3"}"\n'
        '[approvals]\ndeciders = ["alice"]\n'
        '[actuators.idp]\ntype = "okta"\n'
        f'options = {{ base_url = "{okta.base_url}", api_token = "{okta.token}" }}\n'
    )
    queue = f"crash-{uuid.uuid4().hex[:10]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOAR_", "SLACK_"))} | {
        "SOAR_CONFIG": str(config),
        "SOAR_DATA_DIR": str(tmp_path / "data"),
        "SOAR_TEMPORAL__ADDRESS": temporal_client.service_client.config.target_host,
        "SOAR_TEMPORAL__TASK_QUEUE": queue,
        "PYTHONPATH": str(REPO_ROOT),
    }
    yield env


async def pending_approval(handle: WorkflowHandle[object, object]) -> ApprovalRequest:
    for _ in range(300):
        try:
            approvals = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalRequest])
        except Exception:
            approvals = []
        if approvals:
            return approvals[0]
        await asyncio.sleep(0.1)
    raise AssertionError("the playbook never asked for an approval")


async def test_a_worker_killed_mid_call_carries_the_action_out_once(
    tmp_path: Path,
    temporal_client: Client,
    okta: OktaEmulator,
    worker_env: dict[str, str],
) -> None:
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}")
    await store.migrate()
    first = WorkerProcess(tmp_path, worker_env, 1)
    second: WorkerProcess | None = None
    try:
        case_id = f"crash-{uuid.uuid4().hex[:10]}"
        alert = make_alert(
            source="generic",
            native_key=uuid.uuid4().hex,
            title="Impossible travel for j.doe",
            severity=SeverityInfo(level=Severity.HIGH),
            time=datetime.now(UTC),
            observables=[
                Observable(type=ObservableType.USER, value=USER, role=ObservableRole.ACTOR)
            ],
        )
        now = datetime.now(UTC)
        await store.upsert_case(
            Case(
                id=case_id,
                correlation_key=f"test:{alert.id}",
                title=alert.title,
                severity=Severity.HIGH,
                created_at=now,
                updated_at=now,
            )
        )
        handle = await temporal_client.start_workflow(
            "playbook:suspicious_user",
            PlaybookInput(
                playbook="suspicious_user", case_id=case_id, case_workflow_id="", alert=alert
            ),
            id=playbook_workflow_id(case_id, "suspicious_user"),
            task_queue=worker_env["SOAR_TEMPORAL__TASK_QUEUE"],
            result_type=PlaybookResult,
        )
        approval = await pending_approval(handle)
        okta.hold("POST", "/lifecycle/suspend")
        await send_decision(
            temporal_client,
            store,
            approval,
            DecisionRequest(approval_id=approval.id, decision=DecisionKind.APPROVE, user="alice"),
        )
        await asyncio.wait_for(okta.holding.wait(), 60)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        okta.release()
        suspended = okta.user(USER)
        assert suspended is not None and suspended.status == "SUSPENDED"

        second = WorkerProcess(tmp_path, worker_env, 2)
        result = await asyncio.wait_for(handle.result(), PICKED_UP_WITHIN)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    assert okta.count("POST", "/lifecycle/suspend") == 1, "the account was suspended twice"
    assert [a.state for a in result.actions if a.command.action is ContainmentVerb.DISABLE] == [
        ActionState.VERIFIED
    ]
    detail = await store.get_case_detail(case_id)
    await store.close()
    assert detail is not None
    [disable] = [a for a in detail.actions if a.command.action is ContainmentVerb.DISABLE]
    assert disable.state is ActionState.VERIFIED
    assert disable.actuator == "idp"
    assert any("disable" in e.summary.lower() for e in detail.timeline)

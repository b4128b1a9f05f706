"""A built-in playbook as the case workflow runs it: a child of the case, changing the
case through the `command` signal, on the product's own worker."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from soar.alerts.models import ObservableRole, ObservableType
from soar.approvals.models import (
    DECIDE_UPDATE,
    ApprovalRequest,
    ApprovalSettings,
    DecisionKind,
    DecisionRequest,
    decision_update_id,
)
from soar.cases.contract import (
    ATTACH_SIGNAL,
    CASE_WORKFLOW,
    AttachAlert,
    CaseInput,
    case_workflow_id,
)
from soar.cases.models import CaseState, TimelineKind
from soar.runtime.worker import build_worker
from soar.settings import TemporalSettings
from soar.store.db import Store
from soar.store.views import CaseDetail
from soar.testing.playbook_runner import pending_approvals
from tests.conftest import make_settings, wait_for
from tests.workflows.sdk_support import alert, triaged
from workflows.sdk.models import PlaybookResult

IP = "45.77.1.2"


async def case_of(store: Store, key: str) -> CaseDetail:
    async with asyncio.timeout(30):
        while True:
            found = [c for c in await store.list_cases(limit=500) if c.correlation_key == key]
            detail = await store.get_case_detail(found[0].id) if found else None
            if detail is not None:
                return detail
            await asyncio.sleep(0.1)


async def first_pending(child: WorkflowHandle[Any, Any]) -> ApprovalRequest:
    async with asyncio.timeout(30):
        while True:
            pending = await pending_approvals(child)
            if pending:
                return pending[0]
            await asyncio.sleep(0.1)


async def test_malicious_ip_in_a_case_asks_then_hands_the_case_to_a_person(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path,
        temporal=TemporalSettings(task_queue=f"in-case-{uuid.uuid4().hex[:8]}"),
        approvals=ApprovalSettings(deciders=["alice"]),
    )
    item = alert(
        f"in-case-{uuid.uuid4().hex[:8]}",
        title="C2 beacon",
        observables=[(ObservableType.IP, IP, ObservableRole.SOURCE)],
    )
    key = f"ip:{IP}"
    async with build_worker(temporal_client, settings, store):
        await store.upsert_alert(item)
        await temporal_client.start_workflow(
            CASE_WORKFLOW,
            CaseInput(correlation_key=key, window_seconds=60),
            id=case_workflow_id(key),
            task_queue=settings.temporal.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal=ATTACH_SIGNAL,
            start_signal_args=[AttachAlert(alert=item, triage=triaged(item))],
        )
        case = await case_of(store, key)
        child = temporal_client.get_workflow_handle(
            f"{case.id}/playbook/malicious_ip", result_type=PlaybookResult
        )
        approval = await first_pending(child)
        request = DecisionRequest(
            approval_id=approval.id, decision=DecisionKind.APPROVE, user="alice"
        )
        await child.execute_update(DECIDE_UPDATE, request, id=decision_update_id(request))
        result = await child.result()

        async def handed_off() -> CaseDetail | None:
            detail = await case_of(store, key)
            kinds = [e.kind for e in detail.timeline]
            return detail if TimelineKind.HANDOFF in kinds and detail.escalated else None

        detail = await wait_for(handed_off)

    assert result.approvals[0].settled_by == "alice"
    kinds = [e.kind for e in detail.timeline]
    assert kinds.count(TimelineKind.APPROVAL_REQUESTED) == 1
    assert kinds.count(TimelineKind.DECISION) == 1
    assert kinds.count(TimelineKind.HANDOFF) == 1
    summaries = [e.summary for e in detail.timeline]
    waiting = summaries.index("State triaged → awaiting_decision")
    decided = kinds.index(TimelineKind.DECISION)
    moved_on = summaries.index("State awaiting_decision → triaged")
    assert waiting < decided < moved_on < kinds.index(TimelineKind.HANDOFF)
    assert detail.state is CaseState.TRIAGED and detail.escalated

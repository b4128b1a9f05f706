"""A case's quiet window on the real Temporal dev server, the session worker and its
SQLite store: the case ends after `window_seconds` without an alert, and the next alert
with the same key opens a new case."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from soar.alerts.models import (
    Alert,
    Observable,
    ObservableRole,
    ObservableType,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.cases.contract import (
    ATTACH_SIGNAL,
    CASE_WORKFLOW,
    AttachAlert,
    CaseInput,
    case_workflow_id,
)
from soar.cases.models import Case, TimelineKind
from soar.store.db import Store
from tests.conftest import TASK_QUEUE

WINDOW_SECONDS = 2
ENDS_WITHIN_SECONDS = 30
"""A case that ignored its window would stay open for the default day: fail, not hang."""
QUIET_SUMMARY = "No new alerts for the correlation window: the next alert opens a new case"


def quiet_alert(attacker: str, n: int) -> Alert:
    """A low-severity address-only alert: no built-in playbook runs and holds the case."""
    return make_alert(
        source="window-test",
        native_key=f"{attacker}-{n}",
        title="Port scan",
        severity=SeverityInfo(level=Severity.LOW),
        time=datetime.now(UTC),
        observables=[
            Observable(type=ObservableType.IP, value=attacker, role=ObservableRole.SOURCE)
        ],
    )


async def run_case(client: Client, store: Store, key: str, item: Alert) -> Case:
    """Record the alert, signal-with-start its case as correlation does, and wait for
    the case workflow to end by itself."""
    await store.upsert_alert(item)
    handle = await client.start_workflow(
        CASE_WORKFLOW,
        CaseInput(correlation_key=key, window_seconds=WINDOW_SECONDS),
        id=case_workflow_id(key),
        task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal=ATTACH_SIGNAL,
        start_signal_args=[AttachAlert(alert=item)],
        result_type=Case,
    )
    async with asyncio.timeout(ENDS_WITHIN_SECONDS):
        return await handle.result()


async def test_a_quiet_case_ends_and_the_next_alert_opens_a_new_one(
    temporal_client: Client, store: Store, worker: Worker
) -> None:
    attacker = f"45.96.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    key = f"ip:{attacker}"
    first_alert, second_alert = quiet_alert(attacker, 1), quiet_alert(attacker, 2)

    first = await run_case(temporal_client, store, key, first_alert)
    second = await run_case(temporal_client, store, key, second_alert)

    assert first.id != second.id
    stored = {c.id for c in await store.list_cases(limit=500) if c.correlation_key == key}
    assert stored == {first.id, second.id}
    for case, item in ((first, first_alert), (second, second_alert)):
        detail = await store.get_case_detail(case.id)
        assert detail is not None
        assert detail.alert_ids == [item.id]
        [attached] = [e for e in detail.timeline if e.kind == TimelineKind.ALERT_ATTACHED]
        [quiet] = [e for e in detail.timeline if e.summary == QUIET_SUMMARY]
        assert quiet.kind == TimelineKind.STATE_CHANGED
        assert quiet.at - attached.at >= timedelta(seconds=WINDOW_SECONDS)

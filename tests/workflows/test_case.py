"""Correlation into cases on the real Temporal dev server, real worker and real SQLite.

The alerts here are low-severity address-only alerts: no built-in playbook triggers."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.worker import Replayer

from soar.alerts.models import (
    Alert,
    Observable,
    ObservableRole,
    ObservableType,
    Rule,
    SeverityInfo,
    make_alert,
)
from soar.alerts.models import Severity as Level
from soar.approvals.models import (
    APPROVALS_QUERY,
    DECIDE_UPDATE,
    ApprovalRequest,
    ApprovalSettings,
    ApprovalState,
    DecisionKind,
    DecisionRequest,
    decision_update_id,
)
from soar.cases.activities import PlaybookSettings
from soar.cases.contract import case_workflow_id
from soar.cases.correlation import CorrelationRule, CorrelationSettings
from soar.cases.models import CaseCommand, CaseCommandKind, CaseState, Resolution
from soar.ingest.delivery import AlertDelivery
from soar.ingest.parsers import get_parser
from soar.ingest.parsers.base import ParseContext
from soar.runtime.services import build_delivery
from soar.runtime.worker import build_worker
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from tests.conftest import make_settings, wait_for
from tests.workflows.sdk_playbooks import sdk_broken, sdk_configured, sdk_slow_break
from workflows.case import CaseWorkflow
from workflows.sdk import spec_of
from workflows.sdk.sandbox import workflow_runner

BY_ADDRESS = CorrelationRule(keys=["external_ip"])
"""Cases keyed on the attacker's address alone (`ip:<address>`), as a configured rule can:
these tests are about the case workflow; the default grouping is tested in tests/cases."""


@pytest.fixture
async def starter(
    temporal_client: Client, store: Store, tmp_path: Path
) -> AsyncIterator[AlertDelivery]:
    settings = make_settings(
        tmp_path,
        temporal=TemporalSettings(task_queue=f"cases-{uuid.uuid4().hex[:8]}"),
        correlation=CorrelationSettings(case_history_limit=150, default=BY_ADDRESS),
    )
    worker = build_worker(temporal_client, settings, store)
    async with worker:
        yield build_delivery(temporal_client, settings, store)


def alert(run: str, n: int, attacker: str, **extra: Any) -> Alert:
    parser = get_parser("generic")
    assert parser is not None
    body = {"id": f"{run}-{n}", "title": "SSH brute force", "severity": "low", "src_ip": attacker}
    item = parser(body | extra, ParseContext(source="generic"))[0]
    assert isinstance(item, Alert)
    return item


def sdk_alert(attacker: str, rule: str, n: int = 0) -> Alert:
    """A high alert from the SDK test source about `attacker`, for the SDK playbooks whose
    trigger is `rule`."""
    return make_alert(
        source="sdk-test",
        native_key=f"{attacker}-{n}",
        title=f"SDK test: {rule}",
        rule=Rule(name=rule),
        severity=SeverityInfo(level=Level.HIGH),
        time=datetime.now(UTC),
        observables=[
            Observable(type=ObservableType.IP, value=attacker, role=ObservableRole.SOURCE)
        ],
    )


def new_attacker(second_octet: int) -> str:
    """A public-looking address of its own for one test (data only: never contacted)."""
    return f"45.{second_octet}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


async def replays(client: Client, workflow_id: str) -> int:
    """Replay every run of a workflow id (continued-as-new runs included) against the
    case workflow as it is now; returns how many runs replayed. Non-determinism fails."""
    replayer = Replayer(
        workflow_runner=workflow_runner(),
        workflows=[CaseWorkflow],
        data_converter=pydantic_data_converter,
    )
    runs = [w async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    for run in runs:
        history = await client.get_workflow_handle(workflow_id, run_id=run.run_id).fetch_history()
        await replayer.replay_workflow(history)
    return len(runs)


async def settle(store: Store, keys: list[str], total: int, within: float = 60) -> dict[str, Any]:
    """Wait until the cases for `keys` count `total` alerts between them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        cases = [c for c in await store.list_cases(limit=500) if c.correlation_key in keys]
        if sum(c.alert_count for c in cases) >= total or loop.time() > deadline:
            return {c.correlation_key: c for c in cases}
        await asyncio.sleep(0.2)


@pytest.mark.solo
async def test_concurrent_alerts_never_race_into_two_cases(
    starter: AlertDelivery, store: Store, temporal_client: Client
) -> None:
    run = uuid.uuid4().hex[:8]
    attackers = [f"45.{10 + i}.0.{uuid.uuid4().int % 200 + 1}" for i in range(5)]
    alerts = [alert(run, n, attackers[n % 5]) for n in range(200)]
    await asyncio.gather(*(starter.deliver([a]) for a in alerts))
    keys = [f"ip:{ip}" for ip in attackers]
    cases = await settle(store, keys, 200)
    assert sorted(cases) == sorted(keys)
    assert {c.alert_count for c in cases.values()} == {40}
    detail = await store.get_case_detail(next(iter(cases.values())).id)
    assert detail is not None
    assert len(detail.alerts) == 40
    assert sum(1 for e in detail.timeline if e.kind == "alert_attached") == 40
    query = f"CorrelationKey = '{keys[0]}' AND CaseState = 'triaged' AND Severity = 'low'"
    for _ in range(50):
        listed = [w.id async for w in temporal_client.list_workflows(query)]
        if listed:
            break
        await asyncio.sleep(0.1)
    # One case workflow; with the fixture's history limit it may have continued as new,
    # and each run is listed.
    assert set(listed) == {case_workflow_id(keys[0])}


async def test_case_continues_as_new_and_loses_nothing(
    starter: AlertDelivery, store: Store, temporal_client: Client
) -> None:
    run = uuid.uuid4().hex[:8]
    attacker = new_attacker(99)
    for batch in range(4):
        await asyncio.gather(
            *(starter.deliver([alert(run, batch * 40 + n, attacker)]) for n in range(40))
        )
        await settle(store, [f"ip:{attacker}"], (batch + 1) * 40)
    cases = await settle(store, [f"ip:{attacker}"], 160)
    assert cases[f"ip:{attacker}"].alert_count == 160
    runs = [
        w
        async for w in temporal_client.list_workflows(
            f"WorkflowId = '{case_workflow_id(f'ip:{attacker}')}'"
        )
    ]
    assert len(runs) >= 2, "the case should have continued as new"
    handle = temporal_client.get_workflow_handle(case_workflow_id(f"ip:{attacker}"))
    case = await handle.query("case")
    assert case["alert_count"] == 160
    assert await replays(temporal_client, case_workflow_id(f"ip:{attacker}")) >= 2


async def test_commands_change_the_case_and_closing_opens_the_next(
    starter: AlertDelivery, store: Store, temporal_client: Client
) -> None:
    run = uuid.uuid4().hex[:8]
    attacker = new_attacker(98)
    key = f"ip:{attacker}"
    await starter.deliver([alert(run, 0, attacker)])
    first = (await settle(store, [key], 1))[key]
    handle = temporal_client.get_workflow_handle(case_workflow_id(key))
    commands = [
        CaseCommand(
            id=f"{run}-1", kind=CaseCommandKind.NOTE, actor="U1", text="Looks like <b>x</b>"
        ),
        CaseCommand(id=f"{run}-2", kind=CaseCommandKind.ASSIGN, actor="U1", assignee="U2"),
        CaseCommand(id=f"{run}-2", kind=CaseCommandKind.ASSIGN, actor="U1", assignee="U2"),
        CaseCommand(id=f"{run}-3", kind=CaseCommandKind.SET_SEVERITY, actor="U2", severity="high"),
        CaseCommand(
            id=f"{run}-4",
            kind=CaseCommandKind.CLOSE,
            actor="U2",
            resolution=Resolution.FALSE_POSITIVE,
            text="scanner of ours",
        ),
    ]
    for command in commands:
        await handle.signal("command", command)
    await handle.result()
    detail = await store.get_case_detail(first.id)
    assert detail is not None
    assert (detail.state, detail.resolution) == (CaseState.CLOSED, Resolution.FALSE_POSITIVE)
    assert (detail.assignee, detail.severity.value) == ("U2", "high")
    kinds = [e.kind for e in detail.timeline]
    assert kinds == ["alert_attached", "note", "assigned", "severity_changed", "state_changed"]
    assert detail.timeline[1].summary == "Looks like <b>x</b>"
    assert detail.timeline[-1].actor == "U2"

    await starter.deliver([alert(run, 1, attacker)])
    for _ in range(100):
        cases = [c for c in await store.list_cases(limit=500) if c.correlation_key == key]
        if len(cases) == 2:
            break
        await asyncio.sleep(0.2)
    assert len({c.id for c in cases}) == 2


async def test_a_failing_playbook_is_recorded_and_the_case_goes_on(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:

    settings = make_settings(
        tmp_path,
        temporal=TemporalSettings(task_queue=f"broken-{uuid.uuid4().hex[:8]}"),
        correlation=CorrelationSettings(default=BY_ADDRESS),
    )
    attacker = new_attacker(97)
    key = f"ip:{attacker}"

    worker = build_worker(temporal_client, settings, store, playbooks=[spec_of(sdk_broken)])
    async with worker:
        starter = build_delivery(temporal_client, settings, store)
        await starter.deliver([sdk_alert(attacker, "broken")])
        for _ in range(150):
            case = (await settle(store, [key], 1)).get(key)
            detail = await store.get_case_detail(case.id) if case else None
            if detail and any(e.kind == "playbook_failed" for e in detail.timeline):
                break
            await asyncio.sleep(0.2)
        assert detail is not None
        failed = [e for e in detail.timeline if e.kind == "playbook_failed"]
        assert len(failed) == 1
        assert "the playbook has a bug" in (failed[0].reason or "")
        await starter.deliver([sdk_alert(attacker, "broken", 1)])
        after = (await settle(store, [key], 2))[key]
        assert (after.id, after.alert_count) == (case.id, 2)


def slow_break_settings(tmp_path: Path, queue: str, *, history_limit: int) -> Settings:
    """Settings for a test of `sdk_slow_break`: a task queue of its own, cases keyed on
    the address that continue as new past `history_limit` events, alice deciding."""
    return make_settings(
        tmp_path,
        temporal=TemporalSettings(task_queue=f"{queue}-{uuid.uuid4().hex[:8]}"),
        correlation=CorrelationSettings(case_history_limit=history_limit, default=BY_ADDRESS),
        approvals=ApprovalSettings(deciders=["alice"]),
    )


async def test_a_playbook_failing_after_its_case_continued_as_new_is_recorded(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    settings = slow_break_settings(tmp_path, "slow", history_limit=150)
    attacker = new_attacker(96)
    key = f"ip:{attacker}"
    worker = build_worker(temporal_client, settings, store, playbooks=[spec_of(sdk_slow_break)])
    async with worker:
        case_id, playbook, request = await waiting_case_continued_as_new(
            temporal_client, store, settings, attacker
        )
        decision = DecisionRequest(
            approval_id=request.id, decision=DecisionKind.APPROVE, user="alice"
        )
        await playbook.execute_update(DECIDE_UPDATE, decision, id=decision_update_id(decision))
        failed: list[Any] = []
        for _ in range(100):
            detail = await store.get_case_detail(case_id)
            assert detail is not None
            failed = [e for e in detail.timeline if e.kind == "playbook_failed"]
            if failed:
                break
            await asyncio.sleep(0.2)
        assert len(failed) == 1
        assert "failed after the case moved on" in (failed[0].reason or "")
        state = await temporal_client.get_workflow_handle(case_workflow_id(key)).query("case")
        assert state["alert_count"] == 121
        assert await replays(temporal_client, case_workflow_id(key)) >= 2


async def test_a_playbook_ending_while_its_case_continues_as_new_is_recorded(
    temporal_client: Client, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The playbook's end is heard while the case records the batch after which it
    continues as new: the new run still takes it in. Alerts go in one at a time until
    one more batch (at least 16 history events) takes the run past its limit."""
    settings = slow_break_settings(tmp_path, "ending", history_limit=100)
    attacker = new_attacker(94)
    key = f"ip:{attacker}"
    armed, held, release = False, asyncio.Event(), asyncio.Event()
    record = store.record_case_changes

    async def gated(case: Any, events: Any, alert_ids: list[str], *args: Any, **kw: Any) -> Any:
        if armed and alert_ids:
            held.set()
            await release.wait()
        return await record(case, events, alert_ids, *args, **kw)

    monkeypatch.setattr(store, "record_case_changes", gated)
    worker = build_worker(temporal_client, settings, store, playbooks=[spec_of(sdk_slow_break)])
    async with worker:
        starter = build_delivery(temporal_client, settings, store)
        await starter.deliver([sdk_alert(attacker, "slow-break")])
        case = (await settle(store, [key], 1))[key]
        playbook = temporal_client.get_workflow_handle(f"{case.id}/playbook/sdk_slow_break")
        [request] = await wait_for_approvals(playbook)
        case_workflow = temporal_client.get_workflow_handle(case_workflow_id(key))
        sent = 1
        while (await case_workflow.describe()).history_length < 100 - 16:
            await starter.deliver([sdk_alert(attacker, "slow-break", sent)])
            sent += 1
            await settle(store, [key], sent)
        runs_before = await run_count(temporal_client, case_workflow_id(key))

        armed = True
        await starter.deliver([sdk_alert(attacker, "slow-break", sent)])
        await asyncio.wait_for(held.wait(), 30)
        decision = DecisionRequest(
            approval_id=request.id, decision=DecisionKind.APPROVE, user="alice"
        )
        await playbook.execute_update(DECIDE_UPDATE, decision, id=decision_update_id(decision))
        await wait_for(lambda: closed(playbook))
        release.set()

        async def failures() -> list[Any]:
            detail = await store.get_case_detail(case.id)
            assert detail is not None
            return [e for e in detail.timeline if e.kind == "playbook_failed"]

        [failed] = await wait_for(failures)
        assert "failed after the case moved on" in (failed.reason or "")
        assert await run_count(temporal_client, case_workflow_id(key)) > runs_before


async def run_count(client: Client, workflow_id: str) -> int:
    """How many runs the workflow id has had (continue-as-new makes one more each)."""
    return len([w async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")])


async def closed(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether the workflow has ended, whichever way."""
    return (await handle.describe()).status != WorkflowExecutionStatus.RUNNING


async def waiting_case_continued_as_new(
    temporal_client: Client, store: Store, settings: Settings, attacker: str
) -> tuple[str, WorkflowHandle[Any, Any], ApprovalRequest]:
    """A case whose `sdk_slow_break` playbook waits for a decision while 120 more alerts
    make the case continue as new: the case id, the playbook and its request."""
    key = f"ip:{attacker}"
    starter = build_delivery(temporal_client, settings, store)
    await starter.deliver([sdk_alert(attacker, "slow-break")])
    case = (await settle(store, [key], 1))[key]
    playbook = temporal_client.get_workflow_handle(f"{case.id}/playbook/sdk_slow_break")
    [request] = await wait_for_approvals(playbook)
    for batch in range(3):
        await asyncio.gather(
            *(
                starter.deliver([sdk_alert(attacker, "slow-break", 1 + batch * 40 + n)])
                for n in range(40)
            )
        )
        await settle(store, [key], 1 + (batch + 1) * 40)
    workflow_id = case_workflow_id(key)
    runs = [w async for w in temporal_client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    assert len(runs) >= 2, "the case should have continued as new"
    return case.id, playbook, request


async def wait_for_approvals(handle: WorkflowHandle[Any, Any]) -> list[ApprovalRequest]:
    """The playbook's approval requests, once it has made one."""
    for _ in range(100):
        try:
            found = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalRequest])
        except RPCError:
            found = []
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("the playbook asked for no approval")


async def test_the_case_starts_a_playbook_as_configured(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path,
        temporal=TemporalSettings(task_queue=f"configured-{uuid.uuid4().hex[:8]}"),
        correlation=CorrelationSettings(default=BY_ADDRESS),
        playbooks={"sdk_configured": PlaybookSettings(dry_run=True, options={"colour": "blue"})},
    )
    attacker = new_attacker(95)
    item = sdk_alert(attacker, "configured")
    worker = build_worker(temporal_client, settings, store, playbooks=[spec_of(sdk_configured)])
    async with worker:
        await build_delivery(temporal_client, settings, store).deliver([item])
        notes: list[str] = []
        for _ in range(100):
            case = (await settle(store, [f"ip:{attacker}"], 1)).get(f"ip:{attacker}")
            detail = await store.get_case_detail(case.id) if case else None
            notes = [e.summary for e in detail.timeline if e.kind == "note"] if detail else []
            if notes:
                break
            await asyncio.sleep(0.2)
        assert notes == ["dry run: True, colour: blue"]
        assert detail is not None
        [attached] = detail.alerts
        assert attached.triage is not None and attached.triage.reasons


async def test_closing_a_case_cancels_its_playbooks_and_their_requests(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path,
        temporal=TemporalSettings(task_queue=f"close-{uuid.uuid4().hex[:8]}"),
        correlation=CorrelationSettings(default=BY_ADDRESS),
        approvals=ApprovalSettings(deciders=["alice"]),
    )
    attacker = new_attacker(94)
    key = f"ip:{attacker}"
    item = sdk_alert(attacker, "slow-break")
    worker = build_worker(temporal_client, settings, store, playbooks=[spec_of(sdk_slow_break)])
    async with worker:
        await build_delivery(temporal_client, settings, store).deliver([item])
        case = (await settle(store, [key], 1))[key]
        playbook = temporal_client.get_workflow_handle(f"{case.id}/playbook/sdk_slow_break")
        [request] = await wait_for_approvals(playbook)
        close = CaseCommand(
            id=f"close-{attacker}",
            kind=CaseCommandKind.CLOSE,
            actor="alice",
            resolution=Resolution.BENIGN,
            text="our own scanner",
        )
        await temporal_client.get_workflow_handle(case_workflow_id(key)).signal("command", close)
        for _ in range(100):
            stored = await store.get_approval(request.id)
            if stored is not None and stored.state is ApprovalState.CANCELLED:
                break
            await asyncio.sleep(0.1)
        assert stored is not None and stored.state is ApprovalState.CANCELLED
        status = (await playbook.describe()).status
        for _ in range(100):
            if status is not WorkflowExecutionStatus.RUNNING:
                break
            await asyncio.sleep(0.1)
            status = (await playbook.describe()).status
        assert status is WorkflowExecutionStatus.CANCELED
        detail = await store.get_case_detail(case.id)
        assert detail is not None and detail.state is CaseState.CLOSED
        summaries = [e.summary for e in detail.timeline]
        assert "Playbook sdk_slow_break cancelled" in summaries
        assert await replays(temporal_client, case_workflow_id(key)) == 1


async def test_a_playbook_terminated_by_hand_does_not_keep_its_case_open(
    temporal_client: Client, store: Store, tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path,
        temporal=TemporalSettings(task_queue=f"vanish-{uuid.uuid4().hex[:8]}"),
        correlation=CorrelationSettings(
            case_history_limit=150, default=CorrelationRule(window_seconds=3)
        ),
        approvals=ApprovalSettings(deciders=["alice"]),
    )
    attacker = new_attacker(93)
    key = f"ip:{attacker}"
    worker = build_worker(temporal_client, settings, store, playbooks=[spec_of(sdk_slow_break)])
    async with worker:
        case_id, playbook, _ = await waiting_case_continued_as_new(
            temporal_client, store, settings, attacker
        )
        await playbook.terminate("an operator stopped it")

        case_handle = temporal_client.get_workflow_handle(case_workflow_id(key))
        async with asyncio.timeout(30):
            ended = await case_handle.result()
        assert ended["alert_count"] == 121
        detail = await store.get_case_detail(case_id)
        assert detail is not None
        assert detail.timeline[-1].summary.startswith("No new alerts for the correlation window")


async def test_a_case_history_saved_before_the_reducer_split_replays() -> None:
    """`histories/case.json` was recorded on the case workflow before its reducer moved
    to `soar/cases/reducer.py` and its names to `soar/cases/contract.py`: three alerts
    (one raising the severity), then a note, an assignment, a severity, a state, an
    escalation and the close. Today's workflow must take the same decisions."""
    saved = json.loads((Path(__file__).parent / "histories" / "case.json").read_text())
    history = WorkflowHistory.from_json(saved["workflow_id"], saved["history"])
    replayer = Replayer(
        workflow_runner=workflow_runner(),
        workflows=[CaseWorkflow],
        data_converter=pydantic_data_converter,
    )
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None

"""Approvals on the real Temporal dev server: the `decide` Update, its validator and
handler, quorum, expiry and the audit of refusals."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowHistory

from soar.approvals.audit import record_refusal
from soar.approvals.models import (
    ApprovalSettings,
    ApprovalState,
    DecisionKind,
    DecisionRequest,
    DecisionResult,
    decision_update_id,
)
from soar.approvals.service import DecisionRefusedError
from soar.cases.models import TimelineKind
from soar.store.db import Store
from soar.testing.playbook_runner import PlaybookHarness
from tests.workflows.sdk_support import APPROVALS, alert, harness, history_length

APPROVE, DENY = DecisionKind.APPROVE, DecisionKind.DENY


@pytest.fixture(scope="module")
async def gate(temporal_client: Client, store: Store) -> AsyncIterator[PlaybookHarness]:
    async with harness(temporal_client, store) as running:
        yield running


def key() -> str:
    return uuid.uuid4().hex[:10]


@pytest.mark.solo
async def test_two_deciders_at_once_fifty_times_settle_exactly_once(
    gate: PlaybookHarness,
) -> None:
    run = key()
    handles = await asyncio.gather(
        *(gate.start("sdk_gate", alert(f"race-{run}-{n}"), dry_run=False) for n in range(50))
    )
    approvals = await asyncio.gather(*(gate.next_approval(handle) for handle in handles))

    async def both(handle: WorkflowHandle[Any, Any], approval_id: str) -> list[object]:
        return await asyncio.gather(
            gate.decide(handle, approval_id, "alice", APPROVE),
            gate.decide(handle, approval_id, "bob", DENY),
            return_exceptions=True,
        )

    outcomes = await asyncio.gather(
        *(both(handle, approval.id) for handle, approval in zip(handles, approvals, strict=True))
    )
    for outcome in outcomes:
        accepted = [o for o in outcome if isinstance(o, DecisionResult)]
        refused = [o for o in outcome if isinstance(o, DecisionRefusedError)]
        assert len(accepted) == 1 and len(refused) == 1, outcome
        assert str(refused[0]).startswith(
            ("already approved by alice at", "already denied by bob at")
        )
    runs = await asyncio.gather(*(gate.finish(handle) for handle in handles))
    for result in runs:
        [approval] = result.approvals
        assert len(approval.decisions) == 1
        assert approval.state in (ApprovalState.APPROVED, ApprovalState.DENIED)
        assert result.kinds().count(TimelineKind.DECISION) == 1
        assert result.kinds().count(TimelineKind.APPROVAL_REFUSED) == 1


async def test_an_unauthorised_decider_is_refused_without_touching_history_and_audited(
    gate: PlaybookHarness, store: Store
) -> None:
    handle = await gate.start("sdk_gate", alert(f"unauth-{key()}"), dry_run=False)
    approval = await gate.next_approval(handle)
    before = await history_length(handle)

    with pytest.raises(DecisionRefusedError, match="mallory is not allowed to decide"):
        await gate.decide(handle, approval.id, "mallory", APPROVE, reason="trust me")

    assert await history_length(handle) == before
    await gate.decide(handle, approval.id, "carol", APPROVE)
    run = await gate.finish(handle)
    [refusal] = [e for e in run.timeline if e.kind == TimelineKind.APPROVAL_REFUSED]
    assert refusal.actor == "mallory"
    assert refusal.reason == "trust me"
    assert "mallory is not allowed to decide" in refusal.data["message"]
    assert [d.user for d in run.approvals[0].decisions] == ["carol"]

    again = DecisionRequest(approval_id=approval.id, decision=APPROVE, user="mallory")
    await record_refusal(store, run.approvals[0], again, refusal.data["message"])
    await record_refusal(store, run.approvals[0], again, refusal.data["message"])
    detail = await store.get_case_detail(run.case_id)
    assert detail is not None
    assert [e.kind for e in detail.timeline].count(TimelineKind.APPROVAL_REFUSED) == 1


async def test_a_request_nobody_answers_expires_and_the_playbook_escalates(
    gate: PlaybookHarness,
) -> None:
    escalating = await gate.start(
        "sdk_gate", alert(f"expiry-{key()}"), dry_run=False, options={"expiries": [1, 30]}
    )
    stopping = await gate.start(
        "sdk_gate",
        alert(f"stop-{key()}"),
        dry_run=False,
        on_expiry="stop",
        options={"expiries": [1]},
    )
    first = second = await gate.next_approval(escalating)
    while second.id == first.id:
        await asyncio.sleep(0.1)
        second = await gate.next_approval(escalating)

    with pytest.raises(DecisionRefusedError, match=r"^expired at \d{4}-\d\d-\d\dT"):
        await gate.decide(escalating, first.id, "alice", APPROVE)
    await gate.decide(escalating, second.id, "alice", APPROVE)
    escalated, stopped = await gate.finish(escalating), await gate.finish(stopping)

    expired = escalated.approvals[0]
    assert expired.state is ApprovalState.EXPIRED and expired.settled_by == "system"
    assert expired.decisions == []
    kinds = escalated.kinds()
    assert TimelineKind.APPROVAL_EXPIRED in kinds
    assert kinds.index(TimelineKind.ESCALATED) > kinds.index(TimelineKind.APPROVAL_EXPIRED)
    assert stopped.approvals[0].state is ApprovalState.EXPIRED
    assert TimelineKind.APPROVAL_EXPIRED in stopped.kinds()
    assert TimelineKind.ESCALATED not in stopped.kinds()


async def test_a_quorum_of_two_needs_two_distinct_approvers(gate: PlaybookHarness) -> None:
    handle = await gate.start(
        "sdk_gate",
        alert(f"quorum-{key()}"),
        dry_run=False,
        options={"quorum": 2, "deciders": ["group:leads"]},
    )
    approval = await gate.next_approval(handle)

    with pytest.raises(DecisionRefusedError, match="carol is not allowed"):
        await gate.decide(handle, approval.id, "carol", APPROVE)
    first = await gate.decide(handle, approval.id, "alice", APPROVE)
    assert (first.state, first.approvals, first.quorum) == (ApprovalState.PENDING, 1, 2)
    with pytest.raises(DecisionRefusedError, match=r"alice already approved .*1 of 2 approvals"):
        await gate.decide(handle, approval.id, "alice", APPROVE, update_id=f"click-{key()}")
    second = await gate.decide(handle, approval.id, "bob", APPROVE, reason="seen it")
    assert (second.state, second.approvals) == (ApprovalState.APPROVED, 2)

    run = await gate.finish(handle)
    [settled] = run.approvals
    assert [(d.user, d.decision) for d in settled.decisions] == [
        ("alice", APPROVE),
        ("bob", APPROVE),
    ]
    assert settled.settled_by == "bob"
    decisions = [e for e in run.timeline if e.kind == TimelineKind.DECISION]
    assert [(e.actor, e.reason) for e in decisions] == [("alice", None), ("bob", "seen it")]


async def test_a_repeated_call_with_the_same_update_id_returns_the_same_result(
    gate: PlaybookHarness,
) -> None:
    handle = await gate.start(
        "sdk_gate", alert(f"repeat-{key()}"), dry_run=False, options={"expiries": [30, 30]}
    )
    approval = await gate.next_approval(handle)
    request = DecisionRequest(approval_id=approval.id, decision=APPROVE, user="bob")

    first = await gate.decide(handle, approval.id, "bob", APPROVE)
    repeated = await gate.decide(
        handle, approval.id, "bob", APPROVE, update_id=decision_update_id(request)
    )
    assert repeated == first
    with pytest.raises(DecisionRefusedError, match=r"already approved by bob at"):
        await gate.decide(handle, approval.id, "alice", APPROVE)

    follow_up = await gate.next_approval(handle)
    await gate.decide(handle, follow_up.id, "bob", DENY, reason="enough")
    run = await gate.finish(handle)
    assert [len(a.decisions) for a in run.approvals] == [1, 1]
    assert run.kinds().count(TimelineKind.DECISION) == 2


async def test_the_requester_may_not_approve_their_own_request(gate: PlaybookHarness) -> None:
    handle = await gate.start(
        "sdk_gate", alert(f"self-{key()}"), dry_run=False, requested_by="alice"
    )
    approval = await gate.next_approval(handle)
    with pytest.raises(DecisionRefusedError, match="alice requested this action and may not"):
        await gate.decide(handle, approval.id, "alice", APPROVE)
    await gate.decide(handle, approval.id, "bob", APPROVE)
    assert (await gate.finish(handle)).approvals[0].settled_by == "bob"

    allowed = await gate.start(
        "sdk_gate",
        alert(f"self-ok-{key()}"),
        dry_run=False,
        requested_by="alice",
        forbid_self_approval=False,
    )
    approval = await gate.next_approval(allowed)
    result = await gate.decide(allowed, approval.id, "alice", APPROVE)
    assert result.state is ApprovalState.APPROVED


async def test_a_deny_settles_the_request_and_nothing_is_contained(
    gate: PlaybookHarness,
) -> None:
    handle = await gate.start(
        "sdk_gate", alert(f"deny-{key()}"), dry_run=False, options={"address": "45.3.3.3"}
    )
    approval = await gate.next_approval(handle)
    result = await gate.decide(handle, approval.id, "carol", DENY, reason="false positive")
    assert (result.state, result.message) == (ApprovalState.DENIED, "denied by carol")

    run = await gate.finish(handle)
    assert run.actions == []
    assert run.approvals[0].state is ApprovalState.DENIED
    assert TimelineKind.CONTAINMENT not in run.kinds()
    [decision] = [e for e in run.timeline if e.kind == TimelineKind.DECISION]
    assert (decision.actor, decision.reason) == ("carol", "false positive")


def activities_per_task(history: WorkflowHistory) -> list[list[str]]:
    """The activity types each workflow task of a history scheduled, task by task."""
    tasks: list[list[str]] = []
    for event in history.events:
        if event.HasField("workflow_task_completed_event_attributes"):
            tasks.append([])
        elif event.HasField("activity_task_scheduled_event_attributes"):
            tasks[-1].append(event.activity_task_scheduled_event_attributes.activity_type.name)
    return tasks


async def test_asking_for_approval_looks_up_at_once_and_writes_at_once(
    gate: PlaybookHarness,
) -> None:
    """The guardrails and the policy are one round trip; the request's record, its
    timeline entry and the case's waiting state another: an analyst is asked sooner."""
    handle = await gate.start(
        "sdk_gate", alert(f"once-{key()}"), dry_run=False, options={"address": "45.3.3.4"}
    )
    approval = await gate.next_approval(handle)
    tasks = activities_per_task(await handle.fetch_history())
    assert ["check_guardrails", "playbooks.approval_policy"] in tasks, tasks
    # Run on its own (no case workflow), the waiting state is a timeline entry too.
    writes = ["store.record_approval", "store.record_timeline_event", "store.record_timeline_event"]
    assert writes in tasks, tasks
    await gate.decide(handle, approval.id, "carol", DENY)
    run = await gate.finish(handle)
    kinds = run.kinds()
    assert kinds.index(TimelineKind.APPROVAL_REQUESTED) < kinds.index(TimelineKind.DECISION)


async def test_the_configuration_supplies_the_defaults_a_run_does_not_override(
    temporal_client: Client, store: Store
) -> None:
    configured = APPROVALS.model_copy(
        update={"expiry_seconds": 1, "on_expiry": "stop", "forbid_self_approval": False}
    )
    async with harness(temporal_client, store, approvals=configured) as h:
        handle = await h.start(
            "sdk_gate", alert(f"config-{key()}"), dry_run=False, options={"expiries": [None]}
        )
        approval = await h.next_approval(handle)
        run = await h.finish(handle)

    assert approval.expires_at - approval.requested_at == timedelta(seconds=1)
    assert approval.forbid_self_approval is False
    assert run.approvals[0].state is ApprovalState.EXPIRED
    assert TimelineKind.ESCALATED not in run.kinds()


async def test_with_nobody_configured_to_decide_the_case_goes_to_a_person(
    temporal_client: Client, store: Store
) -> None:
    async with harness(temporal_client, store, approvals=ApprovalSettings()) as h:
        run = await h.run("sdk_gate", alert(f"nobody-{key()}"), dry_run=False)

    assert run.approvals == []
    [handoff] = [e for e in run.timeline if e.kind == TimelineKind.HANDOFF]
    assert "nobody is configured to decide" in handoff.summary
    assert TimelineKind.ESCALATED in run.kinds()


async def test_a_quorum_more_people_than_may_decide_is_handed_to_a_person(
    gate: PlaybookHarness,
) -> None:
    run = await gate.run(
        "sdk_gate",
        alert(f"too-few-{key()}"),
        dry_run=False,
        options={"quorum": 3, "deciders": ["group:leads"]},
    )
    assert run.approvals == []
    [handoff] = [e for e in run.timeline if e.kind == TimelineKind.HANDOFF]
    assert "needs 3 approvals but only 2 people may decide on it" in handoff.summary

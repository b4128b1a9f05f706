"""Merging and splitting cases on the real Temporal dev server, the product's worker and
real SQLite, through the case service every client uses.

A merge moves the merged case's alerts, timeline and open approval to the survivor, and
a decision on that approval still reaches the playbook that asked; asked three times at
once and once more, it applies once; later commands and alerts for the merged case land
on the survivor; its escalation chain stops while the survivor's goes on. A split moves
the alerts named into a new case of its own, and both cases count right.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from soar.alerts.models import Severity
from soar.approvals import service as approvals
from soar.approvals.models import ApprovalSettings, ApprovalState, DecisionKind, DecisionRequest
from soar.cases import service
from soar.cases.activities import PlaybookSettings
from soar.cases.contract import COMMAND_SIGNAL, case_workflow_id, split_key
from soar.cases.correlation import CorrelationSettings
from soar.cases.models import CaseCommand, CaseCommandKind, CaseState, TimelineKind
from soar.errors import ConflictError
from soar.escalation.models import EscalationSettings
from soar.ingest.delivery import AlertDelivery
from soar.runtime.services import build_delivery
from soar.runtime.worker import build_worker
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from soar.store.views import CaseDetail
from soar.testing.emulators.pagerduty import PagerDutyEmulator
from soar.testing.fake_slack import FakeSlack
from tests.bot.support import bot_settings
from tests.conftest import make_settings, unique
from tests.workflows.sdk_playbooks import sdk_gate
from tests.workflows.test_case import (
    BY_ADDRESS,
    alert,
    new_attacker,
    replays,
    sdk_alert,
    wait_for_approvals,
)
from tests.workflows.test_escalation import open_case
from workflows.sdk import spec_of

WITHIN = 60.0
T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]], *, within: float = WITHIN) -> T:
    """The first truthy result of `check()`; fails after `within` seconds."""
    async with asyncio.timeout(within):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.1)


def settings_for(tmp_path: Path) -> Settings:
    """Cases by attacker address; the `sdk_gate` playbook waits ten minutes for alice."""
    return make_settings(
        tmp_path,
        temporal=TemporalSettings(task_queue=f"merge-{unique()}"),
        correlation=CorrelationSettings(default=BY_ADDRESS),
        approvals=ApprovalSettings(deciders=["alice"]),
        playbooks={"sdk_gate": PlaybookSettings(options={"expiries": [600]})},
    )


@pytest.fixture
async def product(
    temporal_client: Client, store: Store, tmp_path: Path
) -> AsyncIterator[AlertDelivery]:
    settings = settings_for(tmp_path)
    async with build_worker(temporal_client, settings, store, playbooks=[spec_of(sdk_gate)]):
        yield build_delivery(temporal_client, settings, store)


async def case_of(store: Store, key: str, alerts: int) -> CaseDetail:
    """The case of `key`, once it counts `alerts` alerts and holds them."""

    async def counted() -> CaseDetail | None:
        found = [c for c in await store.list_cases(limit=500) if c.correlation_key == key]
        detail = await store.get_case_detail(found[0].id) if found else None
        if detail and detail.alert_count == alerts and len(detail.alerts) == alerts:
            return detail
        return None

    return await eventually(counted)


async def plain_case(starter: AlertDelivery, store: Store, count: int) -> CaseDetail:
    """A case of `count` low alerts from one attacker (no playbook starts)."""
    attacker, run = new_attacker(70 + count), uuid.uuid4().hex[:8]
    for n in range(count):
        await starter.deliver([alert(run, n, attacker)])
    return await case_of(store, f"ip:{attacker}", count)


async def merged(store: Store, case_id: str, into: str, alerts: int) -> CaseDetail:
    """The survivor once the merge is recorded on both sides and it holds `alerts`."""

    async def done() -> CaseDetail | None:
        gone = await store.get_case_detail(case_id)
        survivor = await store.get_case_detail(into)
        if gone is None or survivor is None or gone.merged_into != into:
            return None
        if gone.state is not CaseState.CLOSED:  # its own snapshot comes after the survivor's
            return None
        taken_in = any(e.data.get("merged_case") == case_id for e in survivor.timeline)
        holds = survivor.alert_count == alerts and len(survivor.alerts) == alerts
        return survivor if taken_in and holds else None

    return await eventually(done)


def kinds(detail: CaseDetail, kind: str) -> list[Any]:
    return [e for e in detail.timeline if e.kind == kind]


async def test_a_merge_moves_alerts_timeline_and_open_approval_and_a_decision_still_works(
    product: AlertDelivery, store: Store, temporal_client: Client
) -> None:
    attacker = new_attacker(61)
    for n in range(2):
        await product.deliver([sdk_alert(attacker, "gate", n)])
    first = await case_of(store, f"ip:{attacker}", 2)
    playbook = temporal_client.get_workflow_handle(f"{first.id}/playbook/sdk_gate")
    [request] = await wait_for_approvals(playbook)

    async def waiting() -> bool:
        detail = await store.get_case_detail(first.id)
        return detail is not None and detail.state is CaseState.AWAITING_DECISION

    await eventually(waiting)
    survivor = await plain_case(product, store, 3)

    sent = await service.merge_cases(
        temporal_client, store, first.id, survivor.id, actor="alice", reason="one attacker"
    )
    assert (sent.into, sent.already) == (survivor.id, False)
    after = await merged(store, first.id, survivor.id, 5)

    gone = await store.get_case_detail(first.id)
    assert gone is not None
    assert (gone.state, gone.alert_count, gone.alerts) == (CaseState.CLOSED, 0, [])
    [note] = kinds(gone, TimelineKind.CASE_MERGED)
    assert (note.actor, note.reason, note.data["merged_into"]) == (
        "alice",
        "one attacker",
        survivor.id,
    )
    [taken] = [e for e in kinds(after, TimelineKind.CASE_MERGED) if "merged_from" not in e.data]
    assert taken.data["merged_case"] == first.id and taken.data["alerts"] == 2
    copied = [e for e in after.timeline if e.data.get("merged_from") == first.id]
    assert len(copied) == len(gone.timeline)
    assert len(kinds(after, TimelineKind.ALERT_ATTACHED)) == 5
    assert [(a.id, a.case_id) for a in after.approvals] == [(request.id, survivor.id)]
    assert {a.case_id for a in after.alerts} == {survivor.id}

    decided = await approvals.decide(
        temporal_client,
        store,
        DecisionRequest(approval_id=request.id, decision=DecisionKind.APPROVE, user="alice"),
    )
    assert decided.state is ApprovalState.APPROVED

    async def settled_on_survivor() -> CaseDetail | None:
        detail = await store.get_case_detail(survivor.id)
        if detail is None or [a.state for a in detail.approvals] != [ApprovalState.APPROVED]:
            return None
        # The playbook's own entry, and its command that the case is triaged again,
        # passed on by the merged case's workflow.
        decision = [e for e in kinds(detail, TimelineKind.DECISION) if e.data.get("merged_from")]
        forwarded = [
            e
            for e in kinds(detail, TimelineKind.STATE_CHANGED)
            if str(e.data.get("command_id", "")).startswith(playbook.id)
        ]
        return detail if decision and forwarded else None

    final = await eventually(settled_on_survivor)
    assert final.state is CaseState.TRIAGED
    assert (await playbook.describe()).status is not WorkflowExecutionStatus.FAILED
    assert await replays(temporal_client, case_workflow_id(first.correlation_key)) >= 1
    assert await replays(temporal_client, case_workflow_id(survivor.correlation_key)) >= 1


async def test_a_merge_asked_again_and_again_applies_once(
    product: AlertDelivery, store: Store, temporal_client: Client
) -> None:
    first = await plain_case(product, store, 2)
    survivor = await plain_case(product, store, 1)
    other = await plain_case(product, store, 4)

    asked = await asyncio.gather(
        *(
            service.merge_cases(temporal_client, store, first.id, survivor.id, actor="bob")
            for _ in range(3)
        )
    )
    assert {sent.command_id for sent in asked} == {asked[0].command_id}
    after = await merged(store, first.id, survivor.id, 3)
    again = await service.merge_cases(temporal_client, store, first.id, survivor.id, actor="bob")
    assert (again.into, again.already) == (survivor.id, True)

    entries = kinds(after, TimelineKind.CASE_MERGED)
    # Taken in once, and the merged case's own entry, copied.
    assert sorted(str(e.data.get("merged_case") or e.data.get("merged_from")) for e in entries) == [
        first.id,
        first.id,
    ]
    assert len([e for e in entries if "merged_from" in e.data]) == 1
    assert len(kinds(after, TimelineKind.ALERT_ATTACHED)) == 3
    gone = await store.get_case_detail(first.id)
    assert gone is not None and len(kinds(gone, TimelineKind.CASE_MERGED)) == 1
    live = await temporal_client.get_workflow_handle(
        case_workflow_id(survivor.correlation_key)
    ).query("case")
    assert live["alert_count"] == 3

    with pytest.raises(ConflictError, match=f"was merged into {survivor.id}"):
        await service.merge_cases(temporal_client, store, first.id, other.id, actor="bob")
    with pytest.raises(ConflictError, match="cannot be merged into itself"):
        await service.merge_cases(temporal_client, store, other.id, other.id, actor="bob")
    with pytest.raises(ConflictError, match=f"was merged into {survivor.id}"):
        await service.merge_cases(temporal_client, store, other.id, first.id, actor="bob")


async def test_a_merged_case_s_later_commands_and_alerts_land_on_the_survivor(
    product: AlertDelivery, store: Store, temporal_client: Client
) -> None:
    attacker, run = new_attacker(62), uuid.uuid4().hex[:8]
    await product.deliver([alert(run, 0, attacker)])
    first = await case_of(store, f"ip:{attacker}", 1)
    survivor = await plain_case(product, store, 2)
    await service.merge_cases(temporal_client, store, first.id, survivor.id, actor="alice")
    await merged(store, first.id, survivor.id, 3)

    note = CaseCommand(id=f"note-{run}", kind=CaseCommandKind.NOTE, actor="alice", text="seen")
    sent = await service.send_command(temporal_client, store, first.id, note)
    assert (sent.case.id, sent.workflow_id) == (
        survivor.id,
        case_workflow_id(survivor.correlation_key),
    )
    # What a playbook of the merged case does: signal the workflow it was started by.
    late = CaseCommand(
        id=f"playbook-{run}:1",
        kind=CaseCommandKind.SET_SEVERITY,
        actor="playbook:late",
        severity=Severity.CRITICAL,
        data={"case_id": first.id},
    )
    await temporal_client.get_workflow_handle(case_workflow_id(first.correlation_key)).signal(
        COMMAND_SIGNAL, late
    )
    await product.deliver([alert(run, 1, attacker)])

    async def all_there() -> CaseDetail | None:
        detail = await store.get_case_detail(survivor.id)
        if detail is None or detail.alert_count != 4 or len(detail.alerts) != 4:
            return None
        ids = {e.data.get("command_id") for e in detail.timeline}
        return detail if {note.id, late.id} <= ids else None

    after = await eventually(all_there)
    assert after.severity is Severity.CRITICAL
    gone = await store.get_case_detail(first.id)
    assert gone is not None and gone.alert_count == 0 and gone.alerts == []
    assert await replays(temporal_client, case_workflow_id(first.correlation_key)) >= 1


async def test_a_split_moves_the_alerts_named_into_a_new_case_and_both_count_right(
    product: AlertDelivery, store: Store, temporal_client: Client
) -> None:
    case = await plain_case(product, store, 5)
    leaving = sorted(a.id for a in case.alerts)[:2]

    sent = await service.split_case(
        temporal_client, store, case.id, leaving, actor="bob", reason="another campaign"
    )
    key = split_key(case.id, sent.command_id)
    assert sent.workflow_id == case_workflow_id(key)
    new = await case_of(store, key, 2)

    async def left() -> CaseDetail | None:
        detail = await store.get_case_detail(case.id)
        done = detail is not None and detail.alert_count == 3 and len(detail.alerts) == 3
        return detail if done else None

    kept = await eventually(left)
    assert sorted(a.id for a in new.alerts) == leaving
    assert not set(leaving) & {a.id for a in kept.alerts}
    [out] = kinds(kept, TimelineKind.CASE_SPLIT)
    assert (out.data["split_into"], sorted(out.data["alert_ids"])) == (new.id, leaving)
    assert new.timeline[0].kind == TimelineKind.CASE_SPLIT
    assert (new.timeline[0].data["split_from"], new.timeline[0].actor) == (case.id, "bob")
    assert len(kinds(new, TimelineKind.ALERT_ATTACHED)) == 2
    assert not kinds(new, TimelineKind.PLAYBOOK_STARTED)

    again = await service.split_case(temporal_client, store, case.id, leaving, actor="bob")
    assert (again.command_id, again.into) == (sent.command_id, new.id)
    with pytest.raises(ConflictError, match="leaves at least one alert"):
        await service.split_case(
            temporal_client, store, case.id, [a.id for a in kept.alerts], actor="bob"
        )
    with pytest.raises(ConflictError, match=f"is not on case {new.id}"):
        await service.split_case(temporal_client, store, new.id, [kept.alerts[0].id], actor="bob")
    assert await replays(temporal_client, case_workflow_id(case.correlation_key)) >= 1
    assert await replays(temporal_client, sent.workflow_id) == 1


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def pagerduty() -> AsyncIterator[PagerDutyEmulator]:
    async with PagerDutyEmulator() as emulator:
        yield emulator


async def test_the_merged_case_s_escalation_chain_stops_and_the_survivor_s_goes_on(
    temporal_client: Client,
    store: Store,
    tmp_path: Path,
    fake_slack: FakeSlack,
    pagerduty: PagerDutyEmulator,
) -> None:
    escalation = EscalationSettings.model_validate(
        {
            "groups": {"leads": ["alice", "bob"]},
            "policies": {
                "fast": {
                    "severities": ["critical"],
                    "levels": [
                        {"name": "on-call", "after": 3, "page": "oncall"},
                        {"name": "leads", "after": 2, "group": "leads"},
                    ],
                }
            },
        }
    )
    settings = bot_settings(
        tmp_path,
        fake_slack,
        temporal=TemporalSettings(task_queue=f"merge-esc-{unique()}", rpc_timeout_seconds=2.0),
        escalation=escalation,
        paging={
            "oncall": {
                "type": "pagerduty",
                "options": {"base_url": pagerduty.base_url, "routing_key": pagerduty.key},
            }
        },
    )
    async with build_worker(temporal_client, settings, store):
        _, first = await open_case(temporal_client, store, settings)
        _, survivor = await open_case(temporal_client, store, settings)
        await service.merge_cases(temporal_client, store, first.id, survivor.id, actor="alice")
        await merged(store, first.id, survivor.id, 2)

        async def survivor_climbed() -> list[Any] | None:
            levels = [
                e
                for e in await store.get_timeline(survivor.id)
                if e.kind == TimelineKind.ESCALATION_LEVEL and not e.data.get("merged_from")
            ]
            return levels if len(levels) == 2 else None

        await eventually(survivor_climbed)
        assert pagerduty.alert(survivor.id) is not None
        assert pagerduty.alert(first.id) is None
        own = await store.get_timeline(first.id)
        assert not [e for e in own if e.kind == TimelineKind.ESCALATION_LEVEL]
        [stopped] = [e for e in own if e.kind == TimelineKind.ESCALATION_STOPPED]
        assert stopped.summary == f"Escalation stopped: merged into case {survivor.id}"
        assert await replays(temporal_client, case_workflow_id(first.correlation_key)) >= 1

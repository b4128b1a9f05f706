"""Shared set-up of the playbook tests: policy, inventory, alerts and a harness factory."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowHandle

from soar.alerts.models import (
    Alert,
    Observable,
    ObservableRole,
    ObservableType,
    Rule,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.approvals.models import ApprovalSettings
from soar.containment.actuators import Actuator
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import AssetContext, Criticality, IdentityContext, Triage
from soar.enrichment.scoring import triage
from soar.guardrails.settings import GuardrailSettings
from soar.store.db import Store
from soar.testing.playbook_runner import PlaybookHarness
from tests.workflows import sdk_playbooks
from workflows.sdk import discover_playbooks

APPROVALS = ApprovalSettings(
    deciders=["alice", "bob", "carol"],
    groups={"leads": ["alice", "bob"]},
    forbid_self_approval=True,
)
GUARDRAILS = GuardrailSettings(gateways=["10.0.0.1"], never_disable=["administrator", "root"])
INVENTORY = Inventory(
    hosts=[
        AssetContext(hostname="fin-laptop-07", owner="j.doe", criticality=Criticality.CRITICAL),
        AssetContext(hostname="ws-12.corp.example", owner="k.lee"),
        AssetContext(hostname="dc-01.corp.example", tags=["domain-controller"]),
    ],
    users=[IdentityContext(user="j.doe", team="finance", vip=True)],
)
TEST_PLAYBOOKS = [
    sdk_playbooks.sdk_gate,
    sdk_playbooks.sdk_steps,
    sdk_playbooks.sdk_broken,
    sdk_playbooks.sdk_misuse,
    sdk_playbooks.sdk_vague,
    sdk_playbooks.SdkClassPlaybook,
]


def alert(
    key: str,
    *,
    title: str = "test alert",
    source: str = "sdk-test",
    severity: Severity = Severity.HIGH,
    rule: str | None = None,
    observables: Sequence[tuple[ObservableType, str, ObservableRole]] = (),
) -> Alert:
    """An alert with a fixed time, so a run's inputs are the same every time."""
    return make_alert(
        source=source,
        native_key=key,
        title=title,
        severity=SeverityInfo(level=severity),
        time=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        rule=Rule(name=rule),
        observables=[Observable(type=t, value=v, role=r) for t, v, r in observables],
    )


def triaged(item: Alert) -> Triage:
    """The alert's triage against the test inventory, without vendor enrichment."""
    return triage(item, [], INVENTORY)


def harness(
    client: Client,
    store: Store,
    *,
    actuators: Sequence[Actuator] | None = None,
    approvals: ApprovalSettings = APPROVALS,
    auto_approve: bool = False,
    workflows: Sequence[type] = (),
) -> PlaybookHarness:
    """A harness for the built-in and the test playbooks, on the test policy."""
    return PlaybookHarness(
        client,
        store,
        [*discover_playbooks(), *TEST_PLAYBOOKS],
        actuators=actuators,
        approvals=approvals,
        guardrails=GUARDRAILS,
        inventory=INVENTORY,
        auto_approve=auto_approve,
        workflows=workflows,
    )


async def history_length(handle: WorkflowHandle[Any, Any]) -> int:
    """How many events the run's history has once it is idle (no task in flight)."""
    previous = -1
    while True:
        length = len((await handle.fetch_history()).events)
        if length == previous:
            return length
        previous = length
        await asyncio.sleep(0.3)

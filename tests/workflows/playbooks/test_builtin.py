"""The built-in playbooks on the real Temporal dev server, with a recording actuator.

Each run's fresh history is also replayed, so non-determinism shows up here even before
the saved histories are re-recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from soar.alerts.models import ObservableRole, Severity
from soar.approvals.models import ApprovalState, DecisionKind
from soar.approvals.service import DecisionRefusedError
from soar.cases.activities import PlaybookSettings
from soar.cases.models import TimelineKind
from soar.containment.models import ActionState, ContainmentVerb
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from soar.testing.playbook_runner import PlaybookHarness
from tests.workflows.playbooks.scenarios import HOST, IP, USER, run_scenario
from tests.workflows.sdk_support import alert, harness, triaged
from workflows.playbooks.malicious_ip import MaliciousIpOptions, malicious_ip
from workflows.sdk import playbook_workflows, spec_of
from workflows.sdk.discovery import check_playbook_options
from workflows.sdk.sandbox import workflow_runner
from workflows.sdk.spec import PlaybookOptionsError

ACTUATOR = RecordingActuator()


@pytest.fixture(scope="module")
async def h(temporal_client: Client, store: Store) -> AsyncIterator[PlaybookHarness]:
    async with harness(temporal_client, store, actuators=[ACTUATOR]) as running:
        yield running


async def replays(handle: WorkflowHandle[Any, Any]) -> None:
    history = await handle.fetch_history()
    replayer = Replayer(
        workflow_runner=workflow_runner(),
        workflows=playbook_workflows(),
        data_converter=pydantic_data_converter,
    )
    await replayer.replay_workflow(history)


def calls(value: str) -> list[tuple[str, ContainmentVerb]]:
    return [(c.method, c.command.action) for c in ACTUATOR.calls if c.command.target.value == value]


def key() -> str:
    return uuid.uuid4().hex[:10]


async def test_malicious_ip_blocks_for_an_hour_after_approval_and_verifies(
    h: PlaybookHarness,
) -> None:
    ACTUATOR.calls.clear()
    run, handle = await run_scenario(h, "malicious_ip")

    assert run.error is None
    assert calls("45.10.20.30") == [
        ("apply", ContainmentVerb.DENY),
        ("verify", ContainmentVerb.DENY),
        ("verify", ContainmentVerb.DENY),
    ]
    [action] = run.actions
    assert action.state is ActionState.VERIFIED
    assert action.command.args.duration_seconds == 3600
    assert action.command.target.type == "ipv4_net"
    kinds = run.kinds()
    assert [k for k in kinds if k != TimelineKind.STATE_CHANGED] == [
        TimelineKind.PLAYBOOK_STARTED,
        "enrichment",
        TimelineKind.APPROVAL_REQUESTED,
        TimelineKind.DECISION,
        TimelineKind.CONTAINMENT,
        TimelineKind.CONTAINMENT,
        TimelineKind.NOTE,
        "playbook_finished",
    ]
    assert run.timeline[-2].summary.startswith("45.10.20.30 is blocked by recording until ")
    requested = next(e for e in run.timeline if e.kind == TimelineKind.APPROVAL_REQUESTED)
    assert requested.data["command"]["action"] == "deny"
    assert "Beacon to a known C2 address (triage:" in (requested.reason or "")
    await replays(handle)


async def test_malicious_ip_in_dry_run_blocks_nothing_and_honours_its_option(
    h: PlaybookHarness,
) -> None:
    ACTUATOR.calls.clear()
    run, handle = await run_scenario(
        h, "malicious_ip", dry_run=True, options={"block_seconds": 120}
    )
    assert ACTUATOR.calls == []
    assert run.actions[0].state is ActionState.DRY_RUN
    dry = [e.summary for e in run.timeline if e.kind == TimelineKind.DRY_RUN]
    assert dry == [
        "dry run: would deny 45.10.20.30 for 120 s with recording",
        "Dry run: would verify deny 45.10.20.30 for 120 s",
    ]
    assert run.timeline[-2].summary == ("Dry run: 45.10.20.30 would have been blocked for 120 s.")
    await replays(handle)


async def test_malicious_ip_denied_blocks_nothing(h: PlaybookHarness) -> None:
    item = alert(f"mip-deny-{key()}", observables=[(IP, "45.11.11.11", ObservableRole.SOURCE)])
    handle = await h.start("malicious_ip", item, dry_run=False)
    approval = await h.next_approval(handle)
    await h.decide(handle, approval.id, "bob", DecisionKind.DENY, reason="our scanner")
    run = await h.finish(handle)
    assert run.actions == [] and calls("45.11.11.11") == []
    assert TimelineKind.NOTE not in run.kinds()


async def test_compromised_host_needs_two_approvers_when_critical_and_tells_the_owner(
    h: PlaybookHarness,
) -> None:
    ACTUATOR.calls.clear()
    run, handle = await run_scenario(h, "compromised_host")

    [approval] = run.approvals
    assert approval.quorum == 2
    assert [d.user for d in approval.decisions] == ["alice", "bob"]
    assert "the inventory rates it critical" in approval.blast_radius
    assert calls("fin-laptop-07") == [
        ("apply", ContainmentVerb.CONTAIN),
        ("verify", ContainmentVerb.CONTAIN),
    ]
    [notify] = [e for e in run.timeline if e.kind == "notify"]
    assert notify.data["to"] == "j.doe"
    assert notify.reason == "not delivered: no notification channel is configured"
    assert notify.summary.startswith("Your host fin-laptop-07 was isolated from the network")
    await replays(handle)


async def test_compromised_host_needs_one_approver_when_not_critical(h: PlaybookHarness) -> None:
    item = alert(
        f"ch-{key()}", severity=Severity.HIGH, observables=[(HOST, "WS-12", ObservableRole.HOST)]
    )
    handle = await h.start("compromised_host", item, triage=triaged(item), dry_run=False)
    approval = await h.next_approval(handle)
    assert approval.quorum == 1
    with pytest.raises(DecisionRefusedError, match="not allowed"):
        await h.decide(handle, approval.id, "k.lee")
    await h.decide(handle, approval.id, "carol")
    run = await h.finish(handle)
    assert run.actions[0].state is ActionState.VERIFIED
    [notify] = [e for e in run.timeline if e.kind == "notify"]
    assert notify.data["to"] == "k.lee"


async def test_compromised_host_never_asks_to_isolate_a_domain_controller(
    h: PlaybookHarness,
) -> None:
    item = alert(f"dc-{key()}", observables=[(HOST, "dc-01.corp.example", ObservableRole.HOST)])
    run = await h.run("compromised_host", item, triage=triaged(item), dry_run=False)
    assert run.approvals == [] and calls("dc-01.corp.example") == []
    [refusal] = [e for e in run.timeline if e.kind == TimelineKind.GUARDRAIL_REFUSED]
    assert "domain-controller" in (refusal.reason or "")


async def test_suspicious_user_disables_the_account_and_revokes_its_sessions(
    h: PlaybookHarness,
) -> None:
    ACTUATOR.calls.clear()
    run, handle = await run_scenario(h, "suspicious_user")

    assert [c for c in calls("j.doe") if c[0] == "apply"] == [
        ("apply", ContainmentVerb.DISABLE),
        ("apply", ContainmentVerb.REVOKE),
    ]
    assert [a.command.action for a in run.actions] == [
        ContainmentVerb.DISABLE,
        ContainmentVerb.REVOKE,
    ]
    assert {a.approval_id for a in run.actions} == {run.approvals[0].id}
    assert "VIP" in run.approvals[0].blast_radius
    await replays(handle)


async def test_suspicious_user_never_asks_to_disable_a_protected_account(
    h: PlaybookHarness,
) -> None:
    item = alert(
        f"admin-{key()}",
        title="Failed sign-in burst",
        observables=[(USER, "CORP\\Administrator", ObservableRole.ACTOR)],
    )
    run = await h.run("suspicious_user", item, dry_run=False)
    assert run.approvals == [] and calls("CORP\\Administrator") == []
    assert TimelineKind.GUARDRAIL_REFUSED in run.kinds()


async def test_an_unanswered_built_in_request_expires_and_escalates(h: PlaybookHarness) -> None:
    item = alert(f"expire-{key()}", observables=[(IP, "45.12.12.12", ObservableRole.SOURCE)])
    run = await h.run("malicious_ip", item, dry_run=False, expiry_seconds=1, within=20)
    assert run.approvals[0].state is ApprovalState.EXPIRED
    assert run.actions == []
    assert TimelineKind.ESCALATED in run.kinds()


@pytest.mark.parametrize(
    "name", ["malicious_ip", "compromised_host", "suspicious_user", "evidence"]
)
def test_a_builtin_imports_only_the_sdk_and_builds_no_command_by_hand(name: str) -> None:
    """The built-ins (and `evidence`, the words their triggers share) use the SDK only."""
    source = Path(__file__).resolve().parents[3] / "workflows" / "playbooks" / f"{name}.py"
    text = source.read_text()
    assert "imports_passed_through" not in text
    assert "ContainmentCommand(" not in text
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert set(imports) <= {
        "from __future__ import annotations",
        "from pydantic import BaseModel, ConfigDict, Field",
        "from workflows.sdk import (",
        *(
            line
            for line in imports
            if line.startswith("from workflows.playbooks.evidence import ") and name != "evidence"
        ),
    }


def test_malicious_ip_declares_typed_options_checked_before_the_worker_starts() -> None:
    spec = spec_of(malicious_ip)
    assert spec.describe_options() == "block_seconds = 3600"
    options = spec.validate_options({"block_seconds": "7200"})
    assert options == MaliciousIpOptions(block_seconds=7200)
    with pytest.raises(PlaybookOptionsError) as refused:
        check_playbook_options(
            [spec],
            {"malicious_ip": PlaybookSettings(options={"block_seconds": "an hour", "x": 1})},
        )
    assert str(refused.value) == (
        "playbooks.malicious_ip.options.block_seconds: "
        "Input should be a valid integer, unable to parse string as an integer; "
        "playbooks.malicious_ip.options.x: Extra inputs are not permitted"
    )

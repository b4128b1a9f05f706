"""The step helpers on the real Temporal dev server: guardrails before approval, dry-run,
no actuator, a failing actuator, case commands, and playbooks that fail."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from soar.approvals.models import ApprovalState, DecisionKind
from soar.cases.models import Case, CaseCommandKind, CaseState, TimelineKind
from soar.containment.models import ActionState, ContainmentAction
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from soar.testing.playbook_runner import PlaybookHarness
from tests.workflows.sdk_playbooks import FakeCase, FakeCaseInput, FakeCaseResult
from tests.workflows.sdk_support import alert, harness
from workflows.sdk import PlaybookInput, playbook_workflows
from workflows.sdk.expiry import ContainmentExpiryWorkflow
from workflows.sdk.models import expiry_workflow_id
from workflows.sdk.sandbox import workflow_runner

ACTUATOR = RecordingActuator()


@pytest.fixture(scope="module")
async def steps(temporal_client: Client, store: Store) -> AsyncIterator[PlaybookHarness]:
    async with harness(temporal_client, store, actuators=[ACTUATOR], workflows=[FakeCase]) as h:
        yield h


def key() -> str:
    return uuid.uuid4().hex[:10]


def calls_on(actuator: RecordingActuator, value: str) -> list[str]:
    return [call.method for call in actuator.calls if call.command.target.value == value]


async def approve_next(h: PlaybookHarness, handle: WorkflowHandle[Any, Any]) -> None:
    approval = await h.next_approval(handle)
    await h.decide(handle, approval.id, "alice", DecisionKind.APPROVE)


async def test_a_guardrail_refuses_before_anyone_is_asked(steps: PlaybookHarness) -> None:
    run = await steps.run(
        "sdk_gate", alert(f"gw-{key()}"), dry_run=False, options={"address": "10.0.0.1"}
    )
    assert run.error is None
    assert run.approvals == [] and run.actions == []
    [refusal] = [e for e in run.timeline if e.kind == TimelineKind.GUARDRAIL_REFUSED]
    assert refusal.data["rule"] == "gateways"
    assert "10.0.0.1" in (refusal.reason or "")
    assert TimelineKind.APPROVAL_REQUESTED not in run.kinds()
    assert calls_on(ACTUATOR, "10.0.0.1") == []


async def test_dry_run_calls_no_actuator_and_says_what_would_have_happened(
    steps: PlaybookHarness,
) -> None:
    handle = await steps.start(
        "sdk_gate", alert(f"dry-{key()}"), dry_run=True, options={"address": "45.4.4.4"}
    )
    await approve_next(steps, handle)
    run = await steps.finish(handle)

    [action] = run.actions
    assert action.state is ActionState.DRY_RUN
    assert calls_on(ACTUATOR, "45.4.4.4") == []
    [dry] = [e for e in run.timeline if e.kind == TimelineKind.DRY_RUN]
    assert dry.summary == "dry run: would deny 45.4.4.4 for 600 s with recording"
    assert run.result is not None and run.result.dry_run


async def test_live_containment_calls_the_actuator_and_marks_the_case_contained(
    steps: PlaybookHarness,
) -> None:
    handle = await steps.start(
        "sdk_gate", alert(f"live-{key()}"), dry_run=False, options={"address": "45.5.5.5"}
    )
    await approve_next(steps, handle)
    run = await steps.finish(handle)

    assert calls_on(ACTUATOR, "45.5.5.5") == ["apply", "verify"]
    [action] = run.actions
    assert action.state is ActionState.VERIFIED
    assert action.approval_id == run.approvals[0].id
    contained = [e for e in run.timeline if e.kind == TimelineKind.STATE_CHANGED]
    assert contained[-1].summary == f"State → {CaseState.CONTAINED.value}"


@pytest.mark.parametrize(
    ("dry_run", "calls", "summary"),
    [
        (False, ["apply", "verify", "revert"], "Reverted: deny 45.7.7.7 for 600 s"),
        (True, [], "Dry run: would revert deny 45.7.7.7 for 600 s"),
    ],
    ids=["live", "dry-run"],
)
async def test_revert_undoes_an_action_or_says_it_would(
    steps: PlaybookHarness, dry_run: bool, calls: list[str], summary: str
) -> None:
    ACTUATOR.calls.clear()
    handle = await steps.start(
        "sdk_gate",
        alert(f"revert-{key()}"),
        dry_run=dry_run,
        options={"address": "45.7.7.7", "revert": True},
    )
    await approve_next(steps, handle)
    run = await steps.finish(handle)

    assert calls_on(ACTUATOR, "45.7.7.7") == calls
    assert run.timeline[-2].summary == summary
    expected = ActionState.DRY_RUN if dry_run else ActionState.REVERTED
    assert run.actions[0].state is expected
    if not dry_run:
        expiry = steps.client.get_workflow_handle(expiry_workflow_id(run.actions[0].id))
        assert (await expiry.describe()).status is WorkflowExecutionStatus.CANCELED


async def test_a_containment_with_a_time_to_live_is_reverted_when_it_expires(
    steps: PlaybookHarness, store: Store
) -> None:
    handle = await steps.start(
        "sdk_gate",
        alert(f"ttl-{key()}"),
        dry_run=False,
        options={"address": "45.8.8.8", "duration": 2},
    )
    await approve_next(steps, handle)
    run = await steps.finish(handle)
    [action] = run.actions
    assert action.expires_at is not None
    assert calls_on(ACTUATOR, "45.8.8.8") == ["apply", "verify"]

    expiry = steps.client.get_workflow_handle(expiry_workflow_id(action.id))
    reverted = ContainmentAction.model_validate(await expiry.result())
    assert reverted.state is ActionState.REVERTED
    assert calls_on(ACTUATOR, "45.8.8.8") == ["apply", "verify", "revert"]
    detail = await store.get_case_detail(action.case_id)
    assert detail is not None
    [entry] = [e for e in detail.timeline if e.summary == "Reverted: deny 45.8.8.8 for 2 s"]
    assert entry.at >= action.expires_at
    assert "its time-to-live is up" in (entry.reason or "")
    [stored] = [a for a in detail.actions if a.id == action.id]
    assert stored.state is ActionState.REVERTED
    replayer = Replayer(
        workflow_runner=workflow_runner(),
        workflows=[ContainmentExpiryWorkflow, *playbook_workflows([steps.spec("sdk_gate")])],
        data_converter=pydantic_data_converter,
    )
    await replayer.replay_workflow(await expiry.fetch_history())
    await replayer.replay_workflow(await handle.fetch_history())


@pytest.mark.parametrize(
    ("actuators", "state"),
    [([], ActionState.NO_ACTUATOR), ([RecordingActuator(refuse=True)], ActionState.FAILED)],
    ids=["no-actuator", "actuator-says-no"],
)
async def test_without_a_working_actuator_the_case_is_handed_to_a_person(
    temporal_client: Client,
    store: Store,
    actuators: list[RecordingActuator],
    state: ActionState,
) -> None:
    async with harness(temporal_client, store, actuators=actuators) as h:
        handle = await h.start(
            "sdk_gate", alert(f"handoff-{key()}"), dry_run=False, options={"address": "45.6.6.6"}
        )
        await approve_next(h, handle)
        run = await h.finish(handle)

    assert run.error is None
    [action] = run.actions
    assert action.state is state
    kinds = run.kinds()
    assert kinds.index(TimelineKind.ESCALATED) > kinds.index(TimelineKind.HANDOFF)
    [handoff] = [e for e in run.timeline if e.kind == TimelineKind.HANDOFF]
    assert handoff.summary.startswith("Handed to a person:")
    assert "45.6.6.6" in handoff.summary


async def test_case_changes_are_signalled_to_the_parent_case(
    steps: PlaybookHarness, temporal_client: Client
) -> None:
    case_id = f"case-{key()}"
    item = alert(f"steps-{key()}", rule="steps")
    await steps.store.upsert_case(
        Case(
            id=case_id,
            correlation_key="test:steps",
            title=item.title,
            severity=item.severity.level,
            created_at=item.time,
            updated_at=item.time,
        )
    )
    case = await temporal_client.start_workflow(
        "FakeCase",
        FakeCaseInput(
            playbook="sdk_steps",
            input=PlaybookInput(
                playbook="sdk_steps",
                case_id=case_id,
                case_workflow_id="",
                alert=alert(f"steps-{key()}", rule="steps"),
            ),
        ),
        id=case_id,
        task_queue=steps.task_queue,
        result_type=FakeCaseResult,
    )
    result = await case.result()

    assert [c.kind for c in result.commands] == [
        CaseCommandKind.NOTE,
        CaseCommandKind.SET_SEVERITY,
        CaseCommandKind.ESCALATE,
        CaseCommandKind.ASSIGN,
        CaseCommandKind.CLOSE,
    ]
    assert {c.actor for c in result.commands} == {"playbook:sdk_steps"}
    assert {c.data["case_id"] for c in result.commands} == {case_id}
    assert len({c.id for c in result.commands}) == 5
    detail = await steps.store.get_case_detail(case_id)
    kinds = [e.kind for e in detail.timeline] if detail else []
    assert kinds.count(TimelineKind.NOTE) == 0, "the case, not the playbook, records its changes"
    assert "notify" in kinds


async def test_without_a_case_the_playbook_records_its_case_changes_itself(
    steps: PlaybookHarness,
) -> None:
    run = await steps.run("sdk_steps", alert(f"alone-{key()}", rule="steps"))
    assert run.kinds() == [
        TimelineKind.PLAYBOOK_STARTED,
        TimelineKind.NOTE,
        TimelineKind.SEVERITY_CHANGED,
        TimelineKind.ESCALATED,
        TimelineKind.ASSIGNED,
        "notify",
        TimelineKind.STATE_CHANGED,
        "playbook_finished",
    ]
    notify = run.timeline[5]
    assert (notify.summary, notify.data["to"]) == ("heads up", "team-blue")
    assert run.timeline[6].summary == "Closed as true_positive"


async def test_a_playbook_that_raises_fails_its_workflow_instead_of_hanging(
    steps: PlaybookHarness,
) -> None:
    run = await steps.run("sdk_broken", alert(f"broken-{key()}", rule="broken"), within=20)
    assert run.result is None
    assert run.error == "ValueError: the playbook has a bug"


async def test_an_approval_covers_only_its_own_target(steps: PlaybookHarness) -> None:
    handle = await steps.start("sdk_misuse", alert(f"misuse-{key()}", rule="misuse"))
    await approve_next(steps, handle)
    run = await steps.finish(handle, within=20)
    assert (
        run.error
        == "PlaybookError: cannot deny 45.9.9.10 for 600 s: the approval is for 45.9.9.9, "
        "not 45.9.9.10"
    )
    assert run.approvals[0].state is ApprovalState.APPROVED
    assert run.actions == []


async def test_an_approval_of_nothing_named_fails_the_playbook_in_plain_words(
    steps: PlaybookHarness,
) -> None:
    run = await steps.run("sdk_vague", alert(f"vague-{key()}", rule="vague"), within=20)
    assert run.error == (
        "PlaybookError: request_approval needs a command, or an action, a target and a blast_radius"
    )
    assert run.approvals == []


async def test_a_playbook_written_as_a_class_runs(steps: PlaybookHarness) -> None:
    run = await steps.run("sdk_class", alert(f"class-{key()}", title="class act"))
    assert run.error is None
    [note] = [e for e in run.timeline if e.kind == TimelineKind.NOTE]
    assert note.summary == "class playbook saw class act"

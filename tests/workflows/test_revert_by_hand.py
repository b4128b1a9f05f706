"""Reverting by hand on the Temporal dev server, with the playbook harness's worker: two
people asking at once get one revert and one refusal, and an action reverted before its
expiry workflow started is not reverted again when that workflow runs."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import Client

from soar.approvals.models import DecisionKind
from soar.containment import service
from soar.containment.contract import (
    CONTAINMENT_EXPIRY_WORKFLOW,
    RevertRequest,
    expiry_workflow_id,
    revert_workflow_id,
)
from soar.containment.models import (
    ActionState,
    ActuatorOutcome,
    ContainmentAction,
    ContainmentCommand,
    block_ip,
    isolate,
    revoke_sessions,
)
from soar.errors import ConflictError
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from tests.workflows.sdk_support import alert, harness
from workflows.sdk import PlaybookInput
from workflows.sdk.models import ExpiryInput


def address() -> str:
    return f"45.{uuid.uuid4().int % 200 + 1}.{uuid.uuid4().int % 200 + 1}.9"


async def history_activities(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]


async def test_two_people_reverting_at_once_get_one_revert_and_one_refusal(
    temporal_client: Client, store: Store
) -> None:
    actuator = RecordingActuator()
    target = address()
    async with harness(temporal_client, store, actuators=[actuator]) as h:
        handle = await h.start(
            "sdk_gate",
            alert(f"twice-{uuid.uuid4().hex[:8]}"),
            dry_run=False,
            options={"address": target, "duration": 600},
        )
        approval = await h.next_approval(handle)
        await h.decide(handle, approval.id, "alice", DecisionKind.APPROVE)
        [action] = (await h.finish(handle)).actions

        outcomes = await asyncio.gather(
            *(
                service.revert(
                    temporal_client,
                    store,
                    action.id,
                    RevertRequest(user=user, reason=f"{user} says so"),
                    task_queue=h.task_queue,
                    channels=[],
                )
                for user in ("alice", "bob")
            ),
            return_exceptions=True,
        )
        expiry = temporal_client.get_workflow_handle(expiry_workflow_id(action.id))
        ended = ContainmentAction.model_validate(await expiry.result())

    [done] = [o for o in outcomes if isinstance(o, service.Reverted)]
    [refused] = [o for o in outcomes if isinstance(o, ConflictError)]
    assert done.done and done.workflow_id == expiry.id
    assert refused.message.startswith(f"action {action.id} cannot be reverted: ")
    assert ended.state is ActionState.REVERTED
    assert [c.target.value for c in actuator.calls_to("revert")] == [target]
    assert (await history_activities(temporal_client, expiry.id)).count("revert_containment") == 1


async def test_an_action_reverted_before_its_expiry_started_is_not_reverted_again(
    temporal_client: Client, store: Store
) -> None:
    actuator = RecordingActuator()
    target = address()
    command = block_ip(target, 2)
    await actuator.apply(command)
    now = datetime.now(UTC)
    case_id = f"race-{uuid.uuid4().hex[:8]}"
    action = ContainmentAction(
        id=f"{case_id}/playbook/sdk_gate:3",
        case_id=case_id,
        command=command,
        actuator="recording",
        outcomes=[ActuatorOutcome(actuator="recording", state=ActionState.VERIFIED)],
        state=ActionState.VERIFIED,
        created_at=now,
        applied_at=now,
        expires_at=now + timedelta(seconds=2),
    )
    await store.upsert_action(action)
    async with harness(temporal_client, store, actuators=[actuator]) as h:
        done = await service.revert(
            temporal_client,
            store,
            action.id,
            RevertRequest(user="carol", reason="before its expiry began"),
            task_queue=h.task_queue,
            channels=[],
        )
        assert done.done and done.workflow_id == revert_workflow_id(action.id)

        # The playbook's containment step starts the expiry only now, as it would have.
        expiry = await temporal_client.start_workflow(
            CONTAINMENT_EXPIRY_WORKFLOW,
            ExpiryInput(
                playbook=PlaybookInput(
                    playbook="sdk_gate", case_id=case_id, case_workflow_id="", alert=alert(case_id)
                ),
                action=action,
            ),
            id=expiry_workflow_id(action.id),
            task_queue=h.task_queue,
        )
        ended = ContainmentAction.model_validate(await expiry.result())

    assert ended.state is ActionState.REVERTED
    assert ended.reverted_at == (await store.get_action(action.id) or action).reverted_at
    assert [c.target.value for c in actuator.calls_to("revert")] == [target]
    assert "revert_containment" not in await history_activities(temporal_client, expiry.id)
    timeline = await store.get_timeline(case_id)
    assert [e.summary for e in timeline] == [
        f"carol reverted deny {target} for 2 s: before its expiry began"
    ]


@pytest.mark.parametrize(
    ("command", "state", "why"),
    [
        (revoke_sessions("j.doe"), ActionState.APPLIED, "revoke cannot be undone"),
        (block_ip("45.1.2.3", 60), ActionState.DRY_RUN, "it was a dry run: nothing was changed"),
        (block_ip("45.1.2.3", 60), ActionState.REFUSED, "it ended refused: nothing is in effect"),
        (isolate("ws-1"), ActionState.NO_ACTUATOR, "it ended no_actuator: nothing is in effect"),
    ],
    ids=["revoke", "dry-run", "refused", "no-actuator"],
)
async def test_what_cannot_be_undone_is_refused_without_asking_temporal(
    temporal_client: Client,
    store: Store,
    command: ContainmentCommand,
    state: ActionState,
    why: str,
) -> None:
    action = ContainmentAction(
        id=f"never-{uuid.uuid4().hex[:8]}:1",
        case_id="never",
        command=command,
        state=state,
        created_at=datetime.now(UTC),
    )
    await store.upsert_action(action)
    with pytest.raises(ConflictError) as refused:
        await service.revert(
            temporal_client,
            store,
            action.id,
            RevertRequest(user="alice", reason="x"),
            task_queue="no-worker-serves-this",
            channels=[],
        )
    assert refused.value.message == f"action {action.id} cannot be reverted: {why}"

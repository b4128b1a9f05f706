"""Containment asked for in Slack, through the product's own worker on the Temporal dev
server: `/soar isolate HOST` and `/soar block-ip IP TTL` start the real playbook, whose
workflow posts the approval request (a playbook run on its own, with no case message to
thread under); the requester's own Approve is refused privately, another decider's
click lets the playbook act, and the recording actuator carries out exactly the command
asked for, once."""

from __future__ import annotations

import re
import uuid

from temporalio.client import Client
from temporalio.worker import Worker

from bot.ids import ActionId
from soar.approvals.models import ApprovalState
from soar.containment.models import ContainmentVerb, TargetType
from soar.notifications.models import APPROVAL_REQUEST
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from soar.testing.fake_slack import FakeSlack
from workflows.sdk.models import PlaybookResult

from .flows import answer, applied, approval_posted, approve_values
from .support import ALICE, BOB, DEFAULT_CHANNEL, SignedSlack, buttons, texts


def started_workflow(reply: str, playbook: str) -> str:
    """The playbook workflow id the bot's private answer names."""
    found = re.search(rf"`(slack-{playbook}-[^`]+/playbook/{playbook})`", reply)
    assert found is not None, reply
    return found.group(1)


async def test_isolate_from_slack_is_approved_by_another_decider_and_isolates_the_host(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    temporal_client: Client,
    slack_worker: Worker,
    actuator: RecordingActuator,
) -> None:
    host = f"web-{uuid.uuid4().hex[:8]}"
    reply = await answer(slack, f"isolate {host}", user=ALICE)
    assert f"Asked to isolate `{host}`" in reply
    workflow_id = started_workflow(reply, "compromised_host")

    request = await approval_posted(fake_slack, "isolate", host)
    assert request.channel == DEFAULT_CHANNEL
    assert "*Requested by*\n<@UALICE01>" in texts(request.blocks)
    [approval_id] = approve_values(request.blocks)
    approval = await store.get_approval(approval_id)
    assert approval is not None
    assert (approval.requested_by, approval.target, approval.workflow_id) == (
        "alice",
        host,
        workflow_id,
    )
    assert not actuator.called

    await slack.click(
        ActionId.APPROVE, approval_id, user=BOB, channel=request.channel, ts=request.ts
    )
    command = await applied(actuator, host)
    assert command.action is ContainmentVerb.CONTAIN
    assert command.target.type is TargetType.HOSTNAME
    decided = await fake_slack.wait_for(
        "chat.update", lambda a: a["ts"] == request.ts and not buttons(a["blocks"])
    )
    assert "Approved by <@UBOB0001> at <!date^" in texts(decided["blocks"])

    result = await temporal_client.get_workflow_handle(
        workflow_id, result_type=PlaybookResult
    ).result()
    assert [d.user for d in result.approvals[0].decisions] == ["bob"]
    assert [c.target.value for c in actuator.calls_to("apply")].count(host) == 1


async def test_block_ip_from_slack_through_the_worker_needs_another_decider(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    temporal_client: Client,
    slack_worker: Worker,
    actuator: RecordingActuator,
) -> None:
    address = f"45.84.{uuid.uuid4().int % 200 + 1}.{uuid.uuid4().int % 200 + 1}"
    reply = await answer(slack, f"block-ip {address} 30m", user=BOB)
    assert "You cannot approve your own request" in reply
    workflow_id = started_workflow(reply, "malicious_ip")

    request = await approval_posted(fake_slack, "deny", address)
    assert "blocked for 1800 s" in texts(request.blocks)
    [approval_id] = approve_values(request.blocks)
    where = {"channel": request.channel, "ts": request.ts}

    await slack.click(ActionId.APPROVE, approval_id, user=BOB, **where)
    told = await fake_slack.wait_for("chat.postEphemeral", lambda a: a["user"] == BOB)
    assert "bob requested this action and may not approve it" in told["text"]
    pending = await store.get_approval(approval_id)
    assert pending is not None and pending.state is ApprovalState.PENDING
    assert approve_values(fake_slack.messages[(request.channel, request.ts)].blocks) == [
        approval_id
    ]
    assert not actuator.called

    await slack.click(ActionId.APPROVE, approval_id, user=ALICE, **where)
    command = await applied(actuator, address)
    assert command.action is ContainmentVerb.DENY
    assert command.args.duration_seconds == 1800
    scheduled = await scheduled_activities(temporal_client, workflow_id)
    shown = scheduled.index(APPROVAL_REQUEST)
    recorded = scheduled.index("store.record_approval")
    assert "store.record_timeline_event" in scheduled[recorded:shown], (
        "the message that can be clicked goes out only once the request is open: "
        "after it is recorded and on the timeline"
    )

    result = await temporal_client.get_workflow_handle(
        workflow_id, result_type=PlaybookResult
    ).result()
    [action] = result.actions
    assert action.command.args.duration_seconds == 1800
    assert action.expires_at is not None and action.applied_at is not None
    assert (action.expires_at - action.applied_at).total_seconds() == 1800
    assert [d.user for d in result.approvals[0].decisions] == ["alice"]


async def scheduled_activities(client: Client, workflow_id: str) -> list[str]:
    """The activity types a workflow scheduled, in the order it scheduled them."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]

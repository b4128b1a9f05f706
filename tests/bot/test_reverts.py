"""Reverting a containment by hand, through each surface, on the Temporal dev server with
the product's worker and the recording actuator: Undo on the thread reply that says the
block took effect and in App Home (checked against `slack.permissions.contain`, with a
modal asking why), `POST /api/actions/{id}/revert`, and `soar actions revert`. An action
with a time-to-live is reverted by its expiry workflow, which then ends without
reverting it a second time; one without is reverted by a workflow of its own. Each
revert is on the case's timeline under the person's name, with their reason.

`soar contain …` and `POST /api/containment` start the same playbook and approval as
`/soar block-ip`, and print the case and the approval to decide."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import typer
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.worker import Worker

from bot.ids import ActionId, CallbackId
from soar.api.app import create_app
from soar.api.deps import Services
from soar.cases.models import CaseState, TimelineEvent
from soar.cli import actions, approvals, contain
from soar.containment.contract import expiry_workflow_id, revert_workflow_id
from soar.containment.models import ActionState, ContainmentAction, ContainmentVerb
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from soar.testing.fake_slack import FakeMessage, FakeSlack
from tests.conftest import API_TOKEN
from tests.live_api import run_cli, serving
from workflows.sdk.models import PlaybookResult

from .flows import PIPELINE, applied, approval_posted, approve_values, own_store
from .support import (
    ALICE,
    CAROL,
    HIGH_CHANNEL,
    MALLORY,
    TEAM,
    SignedSlack,
    buttons,
    eventually,
    text_input,
    texts,
)
from .test_case_lists_and_home import home_section
from .test_end_to_end import attacker, posted, send_alert
from .test_slack_containment import scheduled_activities

OPERATOR = {"Authorization": f"Bearer {API_TOKEN}"}

cli = typer.Typer()
cli.add_typer(actions.app, name="actions")
cli.add_typer(contain.app, name="contain")
cli.command("approve")(approvals.approve)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A store of this module's own: the actions in force are exactly the test's."""
    async for fresh in own_store(tmp_path):
        yield fresh


@pytest.fixture
async def api_url(bot_services: Services) -> AsyncIterator[str]:
    """The app the Slack requests reach, on a real socket for the CLI."""
    async with serving(create_app(bot_services)) as url:
        yield url


def undo_values(blocks: list[dict[str, Any]]) -> list[str]:
    """The action ids on the Undo buttons of some blocks (accessories included)."""
    found = [b["value"] for b in buttons(blocks) if b["action_id"] == ActionId.UNDO]
    found += [
        block["accessory"]["value"]
        for block in blocks
        if block.get("accessory", {}).get("action_id") == ActionId.UNDO
    ]
    return found


async def blocked_through_a_case(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    temporal_client: Client,
    actuator: RecordingActuator,
) -> tuple[str, ContainmentAction]:
    """An alert from a new attacker opens a case; alice approves the block, the recording
    actuator applies it, the case is marked contained and the block's expiry workflow
    waits. The address and the action."""
    address = attacker()
    await send_alert(
        slack.http,
        {
            "id": uuid.uuid4().hex,
            "title": f"SSH brute force from {address}",
            "src_ip": address,
            "severity": "high",
        },
    )
    request = await approval_posted(fake_slack, "deny", address)
    [approval_id] = approve_values(request.blocks)
    await slack.click(
        ActionId.APPROVE, approval_id, user=ALICE, channel=request.channel, ts=request.ts
    )
    await applied(actuator, address)

    async def contained() -> ContainmentAction | None:
        [action] = [
            a for a in await store.list_actions(active=True) if a.command.target.value == address
        ] or [None]
        if action is None:
            return None
        case = await store.get_case_detail(action.case_id, alert_limit=0)
        return action if case is not None and case.state is CaseState.CONTAINED else None

    action = await eventually(contained, within=PIPELINE)
    await eventually(lambda: expiry_running(temporal_client, action.id), within=PIPELINE)
    return address, action


async def undo_reply(fake_slack: FakeSlack, address: str) -> FakeMessage:
    """The thread reply that says the block of `address` took effect, with its Undo."""

    async def found() -> FakeMessage | None:
        for message in list(fake_slack.messages.values()):
            if (
                message.thread_ts is not None
                and undo_values(message.blocks)
                and address in texts(message.blocks)
            ):
                return message
        return None

    return await eventually(found, within=PIPELINE)


def reverts_by(timeline: list[TimelineEvent], user: str) -> list[TimelineEvent]:
    return [e for e in timeline if e.actor == user and e.data.get("state") == "reverted"]


async def expiry_running(client: Client, action_id: str) -> bool:
    """Whether the action's expiry workflow has started (just after it was recorded)."""
    try:
        description = await client.get_workflow_handle(expiry_workflow_id(action_id)).describe()
    except RPCError:
        return False
    return description.status is WorkflowExecutionStatus.RUNNING


async def expiry_ended_with_one_revert(
    client: Client, actuator: RecordingActuator, action_id: str, target: str
) -> ContainmentAction:
    """The expiry workflow's result, once it has ended: it reverted the action once (for
    the person), and the actuator was asked once."""
    expiry = client.get_workflow_handle(expiry_workflow_id(action_id))
    ended = ContainmentAction.model_validate(await expiry.result())
    assert (await scheduled_activities(client, expiry.id)).count("revert_containment") == 1
    assert [c.target.value for c in actuator.calls_to("revert")] == [target]
    return ended


async def test_undo_on_the_thread_reply_reverts_the_block_through_its_expiry_workflow(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    temporal_client: Client,
    slack_worker: Worker,
    actuator: RecordingActuator,
) -> None:
    address, action = await blocked_through_a_case(
        slack, fake_slack, store, temporal_client, actuator
    )
    reply = await undo_reply(fake_slack, address)
    assert undo_values(reply.blocks) == [action.id]
    where = {"channel": reply.channel, "ts": reply.ts}

    await slack.click(ActionId.UNDO, action.id, user=MALLORY, **where)
    told = await fake_slack.wait_for("chat.postEphemeral", lambda a: a["user"] == MALLORY)
    assert told["text"] == (
        ":no_entry: you are not allowed to contain from Slack "
        "(ask an administrator to add you to slack.permissions.contain)"
    )
    assert fake_slack.opened == [] and actuator.calls_to("revert") == []

    await slack.click(ActionId.UNDO, action.id, user=ALICE, **where)
    await fake_slack.wait_for("views.open")
    view = fake_slack.opened[-1]
    assert view["callback_id"] == CallbackId.UNDO_REASON
    assert address in texts(view["blocks"])
    await slack.submit(view, {"reason": text_input("a partner's scanner <!here>")}, user=ALICE)
    told = await fake_slack.wait_for(
        "chat.postEphemeral", lambda a: a["user"] == ALICE and "Reverted" in a["text"]
    )
    assert told["text"] == f":white_check_mark: Reverted deny `{address}` (action `{action.id}`)."

    ended = await expiry_ended_with_one_revert(temporal_client, actuator, action.id, address)
    assert ended.state is ActionState.REVERTED
    stored = await store.get_action(action.id)
    assert stored is not None and stored.state is ActionState.REVERTED
    assert stored.reverted_at is not None
    case = await store.get_case_detail(action.case_id)
    assert case is not None
    [entry] = reverts_by(case.timeline, "alice")
    assert entry.summary == f"alice reverted deny {address} for 3600 s: a partner's scanner <!here>"

    async def triaged() -> bool:
        found = await store.get_case_detail(action.case_id, alert_limit=0)
        return found is not None and found.state is CaseState.TRIAGED

    assert await eventually(triaged, within=PIPELINE)
    thread = await posted(fake_slack, HIGH_CHANNEL, f"alice reverted deny {address}", thread=True)
    assert "&lt;!here&gt;" in texts(thread.blocks) and undo_values(thread.blocks) == []


async def test_undo_in_app_home_for_those_who_may_contain(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    temporal_client: Client,
    slack_worker: Worker,
    actuator: RecordingActuator,
) -> None:
    address, action = await blocked_through_a_case(
        slack, fake_slack, store, temporal_client, actuator
    )
    await slack.event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
    home = (await fake_slack.wait_for("views.publish", lambda a: a["user_id"] == ALICE))["view"]
    [line] = home_section(home, "Active containments")
    assert line.startswith(f"deny `{address}` · ")
    assert undo_values(home["blocks"]) == [action.id]
    await slack.event({"type": "app_home_opened", "user": CAROL, "tab": "home"})
    carols = (await fake_slack.wait_for("views.publish", lambda a: a["user_id"] == CAROL))["view"]
    assert home_section(carols, "Active containments") == [line]
    assert undo_values(carols["blocks"]) == [], "carol may not contain: no Undo for her"

    await slack.interact(
        {
            "type": "block_actions",
            "user": {"id": ALICE, "team_id": TEAM},
            "container": {"type": "view", "view_id": home.get("id", "VHOME")},
            "view": {"id": "VHOME", "type": "home"},
            "actions": [
                {"type": "button", "action_id": ActionId.UNDO, "block_id": "x", "value": action.id}
            ],
        }
    )
    await fake_slack.wait_for("views.open")
    await slack.submit(fake_slack.opened[-1], {"reason": text_input("done with it")}, user=ALICE)
    told = await fake_slack.wait_for("chat.postMessage", lambda a: a["channel"] == ALICE)
    assert told["text"] == f":white_check_mark: Reverted deny `{address}` (action `{action.id}`)."
    refreshed = await fake_slack.wait_for(
        "views.publish",
        lambda a: (
            a["user_id"] == ALICE
            and home_section(a["view"], "Active containments") == ["_Nothing right now._"]
        ),
    )
    assert undo_values(refreshed["view"]["blocks"]) == []
    ended = await expiry_ended_with_one_revert(temporal_client, actuator, action.id, address)
    assert ended.state is ActionState.REVERTED


async def test_the_api_asks_for_a_block_and_reverts_it_before_it_expires(
    slack: SignedSlack,
    store: Store,
    temporal_client: Client,
    slack_worker: Worker,
    actuator: RecordingActuator,
) -> None:
    address = attacker()
    asked = await slack.http.post(
        "/api/containment",
        json={"ask": "block-ip", "target": address, "requested_by": "bob", "ttl_seconds": 1800},
        headers=OPERATOR,
    )
    assert asked.status_code == 202, asked.text
    started = asked.json()
    assert started["approval_id"] and not started["ended"]
    decided = await slack.http.post(
        f"/api/approvals/{started['approval_id']}/decision",
        json={"decision": "approve", "user": "alice"},
        headers=OPERATOR,
    )
    assert decided.status_code == 200, decided.text
    command = await applied(actuator, address)
    assert command.args.duration_seconds == 1800

    async def listed() -> list[dict[str, Any]]:
        found = await slack.http.get("/api/actions", params={"active": "true"}, headers=OPERATOR)
        return found.json()

    [action] = await eventually(listed, within=PIPELINE)
    assert action["command"]["target"]["value"] == address
    await eventually(lambda: expiry_running(temporal_client, action["id"]), within=PIPELINE)
    reverted = await slack.http.post(
        f"/api/actions/{action['id']}/revert",
        json={"user": "alice", "reason": "the owner called"},
        headers=OPERATOR,
    )
    assert reverted.status_code == 200, reverted.text
    answer = reverted.json()
    assert (answer["reverted"], answer["state"]) == (True, "reverted")
    assert answer["workflow_id"] == expiry_workflow_id(action["id"])

    await expiry_ended_with_one_revert(temporal_client, actuator, action["id"], address)
    [entry] = reverts_by(await store.get_timeline(started["case_id"]), "alice")
    assert entry.summary == f"alice reverted deny {address} for 1800 s: the owner called"
    again = await slack.http.post(
        f"/api/actions/{action['id']}/revert",
        json={"user": "bob", "reason": "twice"},
        headers=OPERATOR,
    )
    assert again.status_code == 409
    assert again.json()["message"] == (
        f"action {action['id']} cannot be reverted: it is already reverted"
    )
    assert (
        await slack.http.get("/api/actions", params={"active": "true"}, headers=OPERATOR)
    ).json() == []
    assert len(actuator.calls_to("revert")) == 1


async def test_the_cli_asks_to_isolate_a_host_and_reverts_it_through_a_workflow_of_its_own(
    store: Store,
    api_url: str,
    temporal_client: Client,
    slack_worker: Worker,
    actuator: RecordingActuator,
) -> None:
    host = f"ws-{uuid.uuid4().hex[:8]}"
    asked = await run_cli(cli, api_url, "contain", "isolate", host, "--as", "alice")
    assert asked.exit_code == 0, asked.output
    assert f"asked: isolate {host}: playbook compromised_host is running" in asked.output
    found = re.search(r"approval: (\S+) \(approval pending\)", asked.output)
    assert found is not None, asked.output
    approval = await store.get_approval(found.group(1))
    assert approval is not None and approval.requested_by == "alice"
    assert f"case:     {approval.case_id}" in asked.output

    own = await run_cli(cli, api_url, "approve", approval.id, "--as", "alice")
    assert own.exit_code == 1 and "alice requested this action" in own.output
    approved = await run_cli(cli, api_url, "approve", approval.id, "--as", "bob")
    assert approved.exit_code == 0, approved.output
    await applied(actuator, host)

    async def in_force() -> list[ContainmentAction]:
        return await store.list_actions(active=True)

    [action] = await eventually(in_force, within=PIPELINE)
    assert action.expires_at is None
    listed = await run_cli(cli, api_url, "actions", "list", "--active")
    assert listed.exit_code == 0 and action.id in listed.output and "never" in listed.output

    reverted = await run_cli(
        cli, api_url, "actions", "revert", action.id, "--as", "bob", "--reason", "wrong host"
    )
    assert reverted.exit_code == 0, reverted.output
    assert f"reverted: contain hostname {host} (action {action.id}, by workflow " in reverted.output
    done = ContainmentAction.model_validate(
        await temporal_client.get_workflow_handle(revert_workflow_id(action.id)).result()
    )
    assert done.state is ActionState.REVERTED
    assert [c.target.value for c in actuator.calls_to("revert")] == [host]
    [entry] = reverts_by(await store.get_timeline(approval.case_id), "bob")
    assert entry.summary == f"bob reverted contain {host}: wrong host"
    again = await run_cli(
        cli, api_url, "actions", "revert", action.id, "--as", "bob", "--reason", "again"
    )
    assert again.exit_code == 1
    assert "cannot be reverted: it is already reverted" in again.output
    assert len(actuator.calls_to("revert")) == 1


async def test_the_cli_asks_to_disable_an_account_in_dry_run_and_nothing_is_called(
    store: Store,
    api_url: str,
    temporal_client: Client,
    slack_worker: Worker,
    actuator: RecordingActuator,
) -> None:
    user = f"j.doe.{uuid.uuid4().hex[:6]}"
    asked = await run_cli(
        cli,
        api_url,
        "contain",
        "disable-account",
        user,
        "--dry-run",
        "--as",
        "alice",
        "--reason",
        "impossible travel",
    )
    assert asked.exit_code == 0, asked.output
    found = re.search(r"approval: (\S+) ", asked.output)
    assert found is not None, asked.output
    approval = await store.get_approval(found.group(1))
    assert approval is not None and "impossible travel" in approval.reason
    assert (await run_cli(cli, api_url, "approve", approval.id, "--as", "bob")).exit_code == 0

    result = await temporal_client.get_workflow_handle(
        approval.workflow_id, result_type=PlaybookResult
    ).result()
    assert result.dry_run
    assert [(a.command.action, a.state) for a in result.actions] == [
        (ContainmentVerb.DISABLE, ActionState.DRY_RUN),
        (ContainmentVerb.REVOKE, ActionState.DRY_RUN),
    ]
    assert not actuator.called


async def test_the_cli_refuses_what_cannot_be_contained(api_url: str) -> None:
    private = await run_cli(cli, api_url, "contain", "block-ip", "10.1.2.3", "--as", "alice")
    assert private.exit_code == 1
    assert "error: HTTP 422:" in private.output
    assert "10.1.2.3 is not a public address; only public ones can be blocked" in private.output
    forever = await run_cli(
        cli, api_url, "contain", "block-ip", "45.83.64.1", "--ttl", "forever", "--as", "alice"
    )
    assert forever.exit_code == 2
    assert "'forever' is not a duration" in forever.output

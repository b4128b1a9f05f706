"""The API, Slack and the CLI give the same answer to the same refused operation: each
operation is written once in the service layer, and each client only words the outcome
in its own medium (an HTTP error, a private Slack reply, an exit code)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import typer

from bot.ids import ActionId
from soar.api.app import create_app
from soar.api.deps import Services
from soar.approvals.models import ApprovalState, Decision, DecisionKind
from soar.cases.models import CaseState, Resolution, TimelineKind
from soar.cli import actions, approvals, cases
from soar.containment.models import ActionState, ContainmentAction, block_ip
from soar.store.db import Store
from soar.testing.fake_slack import FakeSlack
from tests.conftest import API_TOKEN
from tests.live_api import run_cli, serving

from .flows import answer
from .support import ALICE, BOB, HIGH_CHANNEL, SignedSlack, approval, case

OPERATOR = {"Authorization": f"Bearer {API_TOKEN}"}
SETTLED_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

cli = typer.Typer()
cli.add_typer(cases.app, name="cases")
cli.add_typer(actions.app, name="actions")
cli.command("approve")(approvals.approve)


@pytest.fixture
async def api_url(bot_services: Services) -> AsyncIterator[str]:
    """The same app the Slack requests reach, on a real socket for the CLI."""
    async with serving(create_app(bot_services)) as url:
        yield url


async def test_a_change_to_an_ended_case_is_refused_in_the_same_words_everywhere(
    slack: SignedSlack, api_url: str, store: Store
) -> None:
    ended = case(state=CaseState.CLOSED, resolution=Resolution.BENIGN)
    await store.upsert_case(ended)
    expected = f"case {ended.id} has ended; it takes notes only"

    over_http = await slack.http.post(
        f"/api/cases/{ended.id}/commands",
        json={"kind": "assign", "actor": "alice", "assignee": "bob"},
        headers=OPERATOR,
    )
    in_slack = await answer(slack, f"assign {ended.id} <@{BOB}|bob>", user=ALICE)
    on_the_command_line = await run_cli(
        cli, api_url, "cases", "assign", ended.id, "bob", "--as", "alice"
    )

    assert over_http.status_code == 409
    assert over_http.json() == {"error": "conflict", "message": expected}
    assert f":warning: {expected}" in in_slack
    assert on_the_command_line.exit_code == 1
    assert f"error: HTTP 409: {expected}" in on_the_command_line.output
    detail = await store.get_case_detail(ended.id)
    assert detail is not None and detail.assignee is None

    noted = await run_cli(
        cli, api_url, "cases", "note", ended.id, "still worth saying", "--as", "bob"
    )
    assert noted.exit_code == 0, noted.output
    detail = await store.get_case_detail(ended.id)
    assert detail is not None
    assert [(e.kind, e.actor, e.summary) for e in detail.timeline] == [
        (TimelineKind.NOTE, "bob", "still worth saying")
    ]


async def test_a_decision_on_a_settled_approval_is_refused_in_the_same_words_everywhere(
    slack: SignedSlack, fake_slack: FakeSlack, api_url: str, store: Store
) -> None:
    shown_in = case()
    settled = approval(
        case_id=shown_in.id,
        workflow_id=f"{shown_in.id}/playbook/malicious_ip",
        state=ApprovalState.DENIED,
        settled_by="bob",
        settled_at=SETTLED_AT,
    )
    settled = settled.model_copy(
        update={
            "decisions": [
                Decision(
                    approval_id=settled.id, decision=DecisionKind.DENY, user="bob", at=SETTLED_AT
                )
            ]
        }
    )
    await store.upsert_case(shown_in)
    await store.upsert_approval(settled)
    expected = "already denied by bob at 2026-01-01T12:00:00Z"

    over_http = await slack.http.post(
        f"/api/approvals/{settled.id}/decision",
        json={"decision": "approve", "user": "alice"},
        headers=OPERATOR,
    )
    await slack.click(ActionId.APPROVE, settled.id, user=ALICE, channel=HIGH_CHANNEL, ts="1.000100")
    in_slack = await fake_slack.wait_for("chat.postEphemeral", lambda a: a["user"] == ALICE)
    on_the_command_line = await run_cli(cli, api_url, "approve", settled.id, "--as", "alice")

    assert over_http.status_code == 409
    assert over_http.json() == {"error": "conflict", "message": expected}
    assert in_slack["text"] == f":no_entry: Not recorded: {expected}"
    assert on_the_command_line.exit_code == 1
    assert f"error: HTTP 409: {expected}" in on_the_command_line.output
    detail = await store.get_case_detail(settled.case_id)
    assert detail is not None
    refusals = [e for e in detail.timeline if e.kind == TimelineKind.APPROVAL_REFUSED]
    assert {e.actor for e in refusals} == {"alice"}
    assert {e.data["message"] for e in refusals} == {expected}


async def test_a_revert_of_an_action_already_reverted_is_refused_in_the_same_words_everywhere(
    slack: SignedSlack, fake_slack: FakeSlack, api_url: str, store: Store
) -> None:
    shown_in = case()
    reverted = ContainmentAction(
        id=f"{shown_in.id}/playbook/malicious_ip:4",
        case_id=shown_in.id,
        command=block_ip("45.83.64.1", 3600),
        actuator="recording",
        state=ActionState.REVERTED,
        created_at=SETTLED_AT,
        applied_at=SETTLED_AT,
        expires_at=SETTLED_AT.replace(hour=13),
        reverted_at=SETTLED_AT.replace(minute=30),
    )
    await store.upsert_case(shown_in)
    await store.upsert_action(reverted)
    expected = f"action {reverted.id} cannot be reverted: it is already reverted"

    over_http = await slack.http.post(
        f"/api/actions/{reverted.id}/revert",
        json={"user": "alice", "reason": "false positive"},
        headers=OPERATOR,
    )
    await slack.click(ActionId.UNDO, reverted.id, user=ALICE, channel=HIGH_CHANNEL, ts="1.000200")
    in_slack = await fake_slack.wait_for("chat.postEphemeral", lambda a: a["user"] == ALICE)
    on_the_command_line = await run_cli(
        cli, api_url, "actions", "revert", reverted.id, "--as", "alice", "--reason", "fp"
    )

    assert over_http.status_code == 409
    assert over_http.json() == {"error": "conflict", "message": expected}
    assert in_slack["text"] == f":warning: {expected}"
    assert fake_slack.opened == [], "no modal asks why for what cannot be reverted"
    assert on_the_command_line.exit_code == 1
    assert f"error: HTTP 409: {expected}" in on_the_command_line.output
    stored = await store.get_action(reverted.id)
    assert stored == reverted
    assert await store.get_timeline(shown_in.id) == []

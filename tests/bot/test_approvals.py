"""Approvals end to end on the Temporal dev server, with the real `malicious_ip` playbook:
the approval message is posted, a signed Approve click becomes the `decide` Update, the
playbook goes on and the message shows the decision; a late click and unauthorised
clicks are refused privately and audited on the case's timeline."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle

from bot.ids import ActionId, CallbackId
from bot.publisher import SlackPost
from soar.alerts.models import (
    Observable,
    ObservableRole,
    ObservableType,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.approvals.models import ApprovalRequest, ApprovalSettings, ApprovalState
from soar.cases.models import TimelineKind
from soar.containment.models import ActionState
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from soar.testing.fake_slack import FakeSlack
from soar.testing.playbook_runner import PlaybookHarness
from workflows.playbooks.malicious_ip import malicious_ip

from .support import (
    ALICE,
    BOB,
    CAROL,
    HIGH_CHANNEL,
    MALLORY,
    SignedSlack,
    bot_settings,
    buttons,
    eventually,
    slack_channel,
    text_input,
    texts,
)


@pytest.fixture
def slack_settings(tmp_path: Path, fake_slack: FakeSlack, harness: PlaybookHarness) -> Settings:
    """The bot's settings on the harness's task queue."""
    return bot_settings(
        tmp_path,
        fake_slack,
        temporal=TemporalSettings(task_queue=harness.task_queue, rpc_timeout_seconds=2.0),
    )


@pytest.fixture
async def harness(temporal_client: Client, store: Store) -> AsyncIterator[PlaybookHarness]:
    """The real malicious_ip playbook on a private task queue; alice and bob decide."""
    async with PlaybookHarness(
        temporal_client,
        store,
        [malicious_ip],
        actuators=[RecordingActuator()],
        approvals=ApprovalSettings(deciders=["alice", "bob"]),
    ) as running:
        yield running


async def request_posted(
    harness: PlaybookHarness, settings: Settings, store: Store, **start: Any
) -> tuple[WorkflowHandle[Any, Any], ApprovalRequest, SlackPost]:
    """Start the playbook on a fresh attacker; post its approval request as the playbook
    SDK will, through the `slack.post_approval_message` activity."""
    address = f"45.83.{uuid.uuid4().int % 200 + 1}.{uuid.uuid4().int % 200 + 1}"
    alert = make_alert(
        source="bot-test",
        native_key=uuid.uuid4().hex,
        title=f"Brute force from {address}",
        severity=SeverityInfo(level=Severity.HIGH),
        time=datetime.now(UTC),
        observables=[Observable(type=ObservableType.IP, value=address, role=ObservableRole.SOURCE)],
    )
    handle = await harness.start(malicious_ip, alert, dry_run=False, **start)
    approval = await harness.next_approval(handle)
    post = await slack_channel(settings, store).approval_request(approval)
    return handle, approval, post


async def refusals(store: Store, case_id: str) -> list[tuple[str, str]]:
    detail = await store.get_case_detail(case_id)
    assert detail is not None
    return [
        (e.actor, e.data["message"])
        for e in detail.timeline
        if e.kind == TimelineKind.APPROVAL_REFUSED
    ]


async def test_approval_message_is_posted_with_its_buttons(
    harness: PlaybookHarness, slack_settings: Settings, store: Store, fake_slack: FakeSlack
) -> None:
    _, approval, post = await request_posted(harness, slack_settings, store)
    assert (post.outcome, post.channel) == ("posted", HIGH_CHANNEL)
    message = fake_slack.messages[(HIGH_CHANNEL, post.ts or "")]
    approve, with_reason, deny = buttons(message.blocks)
    assert approve["value"] == with_reason["value"] == deny["value"] == approval.id
    assert "confirm" in approve
    assert "<@UALICE01>, <@UBOB0001>" in texts(message.blocks)
    again = await slack_channel(slack_settings, store).approval_request(approval)
    assert again.outcome == "unchanged"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_approve_click_decides_and_the_playbook_goes_on(
    harness: PlaybookHarness,
    slack_settings: Settings,
    store: Store,
    fake_slack: FakeSlack,
    slack: SignedSlack,
) -> None:
    handle, approval, post = await request_posted(harness, slack_settings, store)
    where = {"channel": post.channel or "", "ts": post.ts or ""}

    response = await slack.click(ActionId.APPROVE, approval.id, user=ALICE, **where)
    assert response.status_code == 200
    updated = await fake_slack.wait_for("chat.update", lambda a: a["ts"] == post.ts)
    assert buttons(updated["blocks"]) == []
    assert "Approved by <@UALICE01> at <!date^" in texts(updated["blocks"])

    run = await harness.finish(handle)
    assert [a.state for a in run.actions][-1] in (ActionState.APPLIED, ActionState.VERIFIED)
    assert run.approvals[0].state is ApprovalState.APPROVED
    assert run.approvals[0].decisions[0].user == "alice"

    await slack.click(ActionId.APPROVE, approval.id, user=BOB, **where)
    told = await fake_slack.wait_for("chat.postEphemeral", lambda a: a["user"] == BOB)
    assert re.search(r"Not recorded: already approved by alice at \d{4}-\d\d-\d\dT", told["text"])
    audited = await refusals(store, approval.case_id)
    assert [(who, m.split(" at ")[0]) for who, m in audited] == [
        ("bob", "already approved by alice")
    ]


async def test_unauthorised_clicks_are_refused_privately_and_audited(
    harness: PlaybookHarness,
    slack_settings: Settings,
    store: Store,
    fake_slack: FakeSlack,
    slack: SignedSlack,
) -> None:
    handle, approval, post = await request_posted(harness, slack_settings, store)
    where = {"channel": post.channel or "", "ts": post.ts or ""}

    await slack.click(ActionId.APPROVE, approval.id, user=MALLORY, **where)
    told = await fake_slack.wait_for("chat.postEphemeral", lambda a: a["user"] == MALLORY)
    assert "not allowed to decide from Slack" in told["text"]

    await slack.click(ActionId.APPROVE, approval.id, user=CAROL, **where)
    told = await fake_slack.wait_for("chat.postEphemeral", lambda a: a["user"] == CAROL)
    assert "carol is not allowed to decide on this request" in told["text"]

    audited = await eventually(lambda: refusals(store, approval.case_id))
    assert {actor for actor, _ in audited} == {MALLORY, "carol"}
    assert fake_slack.calls_to("chat.update") == []
    still = await store.get_approval(approval.id)
    assert still is not None and still.state is ApprovalState.PENDING
    await handle.terminate("test over")


async def test_deny_asks_for_a_reason_and_stops_the_playbook(
    harness: PlaybookHarness,
    slack_settings: Settings,
    store: Store,
    fake_slack: FakeSlack,
    slack: SignedSlack,
) -> None:
    handle, approval, post = await request_posted(harness, slack_settings, store)
    await slack.click(
        ActionId.DENY, approval.id, user=BOB, channel=post.channel or "", ts=post.ts or ""
    )
    await fake_slack.wait_for("views.open")
    view = fake_slack.opened[-1]
    assert view["callback_id"] == CallbackId.DENY_REASON
    await slack.submit(view, {"reason": text_input("our own scanner <!here>")}, user=BOB)

    updated = await fake_slack.wait_for("chat.update", lambda a: a["ts"] == post.ts)
    shown = texts(updated["blocks"])
    assert "Denied by <@UBOB0001>" in shown
    assert "our own scanner &lt;!here&gt;" in shown
    run = await harness.finish(handle)
    assert run.actions == []
    assert run.approvals[0].state is ApprovalState.DENIED


async def test_approve_with_reason_records_the_reason_with_the_decision(
    harness: PlaybookHarness,
    slack_settings: Settings,
    store: Store,
    fake_slack: FakeSlack,
    slack: SignedSlack,
) -> None:
    handle, approval, post = await request_posted(harness, slack_settings, store)
    await slack.click(
        ActionId.APPROVE_WITH_REASON,
        approval.id,
        user=ALICE,
        channel=post.channel or "",
        ts=post.ts or "",
    )
    await fake_slack.wait_for("views.open")
    view = fake_slack.opened[-1]
    assert view["callback_id"] == CallbackId.APPROVE_REASON
    assert approval.blast_radius in texts(view["blocks"])
    await slack.submit(view, {"reason": text_input("confirmed C2 <@U0X>")}, user=ALICE)

    updated = await fake_slack.wait_for("chat.update", lambda a: a["ts"] == post.ts)
    assert "Approved by <@UALICE01>" in texts(updated["blocks"])
    run = await harness.finish(handle)
    [decision] = run.approvals[0].decisions
    assert (decision.user, decision.reason) == ("alice", "confirmed C2 <@U0X>")
    assert run.approvals[0].state is ApprovalState.APPROVED


async def test_expired_request_is_shown_as_expired(
    harness: PlaybookHarness, slack_settings: Settings, store: Store, fake_slack: FakeSlack
) -> None:
    handle, approval, post = await request_posted(harness, slack_settings, store, expiry_seconds=1)
    await harness.finish(handle)
    expired = await store.get_approval(approval.id)
    assert expired is not None and expired.state is ApprovalState.EXPIRED
    activities = slack_channel(slack_settings, store)
    assert (await activities.approval_update(expired)).outcome == "updated"
    message = fake_slack.messages[(post.channel or "", post.ts or "")]
    assert buttons(message.blocks) == []
    assert "Expired at" in texts(message.blocks)

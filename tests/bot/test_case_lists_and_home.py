"""What a person reads in Slack about the state of things, from a store of the test's own
filled by the real workflows: `/soar cases open|mine|all` over signed slash commands
(and usage help for a scope that does not exist), and App Home with the approvals
waiting for that person and the containments in force with their expiry."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from bot.ids import ActionId
from soar.alerts.models import Severity
from soar.cases.models import CaseState
from soar.containment.models import ActionState, ContainmentAction
from soar.settings import Settings
from soar.store.db import Store
from soar.testing.actuators import RecordingActuator
from soar.testing.fake_slack import FakeSlack

from .flows import PIPELINE, answer, applied, approval_posted, approve_values, open_case, own_store
from .support import ALICE, BOB, CAROL, HIGH_CHANNEL, SignedSlack, eventually
from .test_end_to_end import attacker, send_alert


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A store of this test's own, so the lists hold exactly what the test made."""
    async for fresh in own_store(tmp_path):
        yield fresh


def home_section(view: dict[str, Any], title: str) -> list[str]:
    """The lines App Home shows under one section title."""
    lines: list[str] = []
    inside = False
    for block in view["blocks"]:
        text = block.get("text", {}).get("text") if block["type"] == "section" else None
        if inside and text is None:
            break
        if inside:
            lines.append(text)
        inside = inside or text == f"*{title}*"
    assert inside, f"no section {title!r} in App Home"
    return lines


async def test_cases_open_mine_and_all_list_the_right_cases(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    temporal_client: Client,
    slack_worker: Worker,
    slack_settings: Settings,
) -> None:
    queue, marker = slack_settings.temporal.task_queue, uuid.uuid4().hex[:8]
    assigned = await open_case(
        temporal_client, store, queue, f"{marker} beaconing build agent", severity=Severity.LOW
    )
    other = await open_case(
        temporal_client, store, queue, f"{marker} odd DNS lookups", severity=Severity.MEDIUM
    )
    closed = await open_case(
        temporal_client, store, queue, f"{marker} scanner noise", severity=Severity.LOW
    )
    await answer(slack, f"assign {assigned.id} <@{BOB}|bob>", user=ALICE)
    await answer(slack, f"close {closed.id} fp our own scanner", user=ALICE)

    async def settled() -> bool:
        one = await store.get_case_detail(assigned.id)
        two = await store.get_case_detail(closed.id)
        return (
            one is not None
            and one.assignee == "bob"
            and two is not None
            and two.state is CaseState.CLOSED
        )

    assert await eventually(settled, within=PIPELINE)

    for line in ("cases open", "cases"):
        shown = await answer(slack, line, user=BOB)
        assert "*Open cases*" in shown
        assert f"`{assigned.id}`" in shown and f"`{other.id}`" in shown
        assert closed.id not in shown

    mine = await answer(slack, "cases mine", user=BOB)
    assert "*Your cases*" in mine and f"`{assigned.id}`" in mine
    assert other.id not in mine and closed.id not in mine
    nothing = await answer(slack, "cases mine", user=ALICE)
    assert "_No cases._" in nothing and assigned.id not in nothing

    everything = await answer(slack, "cases all", user=BOB)
    assert "*Recent cases*" in everything
    assert all(f"`{c.id}`" in everything for c in (assigned, other, closed))

    wrong = await answer(slack, "cases everything", user=BOB)
    assert ":warning: unknown scope 'everything'" in wrong
    assert "Usage: `/soar cases [open|mine|all]`" in wrong
    assert "*/soar commands*" in wrong and "`/soar isolate HOST`" in wrong
    assert assigned.id not in wrong


async def in_force(store: Store, case_id: str) -> ContainmentAction | None:
    detail = await store.get_case_detail(case_id)
    actions = detail.actions if detail else []
    return next(
        (
            a
            for a in actions
            if a.state in (ActionState.APPLIED, ActionState.VERIFIED) and a.expires_at
        ),
        None,
    )


async def test_app_home_shows_containments_in_force_with_expiry_and_pending_approvals(
    slack: SignedSlack,
    fake_slack: FakeSlack,
    store: Store,
    slack_worker: Worker,
    actuator: RecordingActuator,
) -> None:
    blocked, waiting = attacker(), attacker()
    await send_alert(
        slack.http,
        {
            "id": uuid.uuid4().hex,
            "title": f"SSH brute force from {blocked}",
            "severity": "high",
            "src_ip": blocked,
        },
    )
    request = await approval_posted(fake_slack, "deny", blocked)
    assert request.channel == HIGH_CHANNEL
    [approved_id] = approve_values(request.blocks)
    await slack.click(
        ActionId.APPROVE, approved_id, user=ALICE, channel=request.channel, ts=request.ts
    )
    await applied(actuator, blocked)
    approved = await store.get_approval(approved_id)
    assert approved is not None
    action = await eventually(lambda: in_force(store, approved.case_id), within=PIPELINE)
    assert action.expires_at is not None
    assert 3500 < (action.expires_at - datetime.now(UTC)).total_seconds() <= 3600

    await send_alert(
        slack.http,
        {
            "id": uuid.uuid4().hex,
            "title": f"Port scan from {waiting}",
            "severity": "high",
            "src_ip": waiting,
        },
    )
    [pending_id] = approve_values((await approval_posted(fake_slack, "deny", waiting)).blocks)

    response = await slack.event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
    assert response.status_code == 200
    home = (await fake_slack.wait_for("views.publish", lambda a: a["user_id"] == ALICE))["view"]

    [containment] = home_section(home, "Active containments")
    assert containment.startswith(f"deny `{blocked}` · ")
    assert f"until <!date^{int(action.expires_at.timestamp())}^" in containment
    assert f"case `{action.case_id}`" in containment
    [waiting_line] = home_section(home, "Approvals waiting for you")
    assert waiting_line.startswith(f"*deny* `{waiting}` · 0 of 1 · expires <!date^")
    pending = await store.get_approval(pending_id)
    assert pending is not None and f"case `{pending.case_id}`" in waiting_line

    await slack.event({"type": "app_home_opened", "user": CAROL, "tab": "home"})
    carols = (await fake_slack.wait_for("views.publish", lambda a: a["user_id"] == CAROL))["view"]
    assert home_section(carols, "Approvals waiting for you") == ["_Nothing right now._"]
    assert home_section(carols, "Active containments") == [containment]

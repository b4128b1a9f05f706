"""Waiting on the whole pipeline in the bot's tests: an approval request posted by a
workflow, a command applied by the recording actuator, a slash command's private answer,
a case held by a real case workflow, and a store of a test's own for tests that list
what the store holds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bot.ids import ActionId
from soar.alerts.models import (
    Observable,
    ObservableRole,
    ObservableType,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.cases.contract import AttachAlert, CaseInput, case_workflow_id
from soar.containment.models import ContainmentCommand
from soar.store.db import Store
from soar.store.views import CaseDetail
from soar.testing.actuators import RecordingActuator
from soar.testing.fake_slack import FakeMessage, FakeSlack

from .support import SignedSlack, buttons, eventually, texts

PIPELINE = 30.0
"""Seconds for work to travel from a request to Slack or to the actuator."""


async def own_store(directory: Path) -> AsyncIterator[Store]:
    """A fresh store: for tests that list cases, approvals or containments in force,
    which the session's shared store would mix with every other test's."""
    store = Store(f"sqlite+aiosqlite:///{directory / 'own-store.sqlite3'}")
    await store.migrate()
    yield store
    await store.close()


async def approval_posted(fake: FakeSlack, *needles: str) -> FakeMessage:
    """The top-level message with an Approve button that shows every needle."""

    async def found() -> FakeMessage | None:
        for message in list(fake.messages.values()):
            if (
                message.thread_ts is None
                and approve_values(message.blocks)
                and all(needle in texts(message.blocks) for needle in needles)
            ):
                return message
        return None

    return await eventually(found, within=PIPELINE)


def approve_values(blocks: list[dict[str, Any]]) -> list[str]:
    """The approval ids on the Approve buttons of some blocks (none once settled)."""
    return [b["value"] for b in buttons(blocks) if b["action_id"] == ActionId.APPROVE]


async def applied(actuator: RecordingActuator, target: str) -> ContainmentCommand:
    """The command the actuator applied to `target`, once it has (twice fails)."""

    async def found() -> ContainmentCommand | None:
        done = [c for c in actuator.calls_to("apply") if c.target.value == target]
        assert len(done) <= 1, done
        return done[0] if done else None

    return await eventually(found, within=PIPELINE)


async def answer(slack: SignedSlack, text: str, *, user: str) -> str:
    """Run `/soar text` as `user` and return every text of its private answer."""
    before = len(slack.fake.responses)
    response = await slack.command(text, user=user)
    assert response.status_code == 200, response.text
    reply = await slack.fake.wait_for_response(count=before + 1)
    assert reply["response_type"] == "ephemeral"
    return texts(reply["blocks"])


async def open_case(
    temporal: Client, store: Store, task_queue: str, title: str, *, severity: Severity
) -> CaseDetail:
    """A case held by a running case workflow on `task_queue`, from one alert with a
    domain (which no playbook answers), once the store has it."""
    key = f"bot-test:{uuid.uuid4().hex[:12]}"
    alert = make_alert(
        source="bot-test",
        native_key=key,
        title=title,
        severity=SeverityInfo(level=severity),
        time=datetime.now(UTC),
        observables=[
            Observable(type=ObservableType.DOMAIN, value="x.example", role=ObservableRole.RELATED)
        ],
    )
    await store.upsert_alert(alert)
    await temporal.start_workflow(
        "CaseWorkflow",
        CaseInput(correlation_key=key, window_seconds=3600, channels=["Slack"]),
        id=case_workflow_id(key),
        task_queue=task_queue,
        start_signal="attach",
        start_signal_args=[AttachAlert(alert=alert)],
    )

    async def recorded() -> CaseDetail | None:
        found = [c for c in await store.list_cases(limit=500) if c.correlation_key == key]
        return await store.get_case_detail(found[0].id) if found else None

    return await eventually(recorded, within=PIPELINE)

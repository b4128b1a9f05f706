"""Documenting and changing a real case from Slack: the Add note and Escalate modals, the
"Add to case" message shortcut, `/soar` case commands, and App Home — each reaching the
case workflow on the Temporal dev server and showing in the store."""

from __future__ import annotations

import json

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from bot.ids import ActionId, CallbackId
from soar.alerts.models import (
    Severity,
)
from soar.cases.models import CaseState, Resolution, TimelineKind
from soar.settings import Settings
from soar.store.db import Store
from soar.store.views import CaseDetail
from soar.testing.fake_slack import FakeSlack

from . import flows
from .support import (
    ALICE,
    BOB,
    DEFAULT_CHANNEL,
    ESCALATION_CHANNEL,
    MALLORY,
    SignedSlack,
    buttons,
    eventually,
    text_input,
    texts,
)


@pytest.fixture
async def open_case(
    temporal_client: Client, store: Store, slack_worker: Worker, slack_settings: Settings
) -> CaseDetail:
    """A case held by a running case workflow that posts to the fake Slack (a low alert
    no playbook answers)."""
    return await flows.open_case(
        temporal_client,
        store,
        slack_settings.temporal.task_queue,
        "Odd DNS lookups from the build farm",
        severity=Severity.LOW,
    )


async def timeline_entry(
    store: Store, case_id: str, kind: str, text: str
) -> list[tuple[str, str, str | None]]:
    async def found() -> list[tuple[str, str, str | None]]:
        detail = await store.get_case_detail(case_id)
        assert detail is not None
        return [
            (e.actor, e.summary, e.reason)
            for e in detail.timeline
            if e.kind == kind and (text in e.summary or text in (e.reason or ""))
        ]

    return await eventually(found)


async def test_add_note_button_opens_a_modal_and_the_note_reaches_the_case(
    slack: SignedSlack, fake_slack: FakeSlack, store: Store, open_case: CaseDetail
) -> None:
    response = await slack.click(
        ActionId.CASE_NOTE, open_case.id, user=BOB, channel=DEFAULT_CHANNEL, ts="1.000001"
    )
    assert response.status_code == 200
    opened = await fake_slack.wait_for("views.open")
    assert opened["view"]["callback_id"] == CallbackId.CASE_NOTE
    view = fake_slack.opened[-1]
    assert json.loads(view["private_metadata"])["case_id"] == open_case.id

    await slack.submit(
        view, {"note": text_input("Checked with the build team <!channel>")}, user=BOB
    )
    entries = await timeline_entry(store, open_case.id, TimelineKind.NOTE, "build team")
    assert entries == [("bob", "Checked with the build team <!channel>", None)]
    told = await fake_slack.wait_for("chat.postEphemeral", lambda a: a["user"] == BOB)
    assert "Note sent to case" in told["text"]


async def test_escalate_modal_escalates_and_tells_the_escalation_channel(
    slack: SignedSlack, fake_slack: FakeSlack, store: Store, open_case: CaseDetail
) -> None:
    await slack.click(
        ActionId.CASE_ESCALATE, open_case.id, user=ALICE, channel=DEFAULT_CHANNEL, ts="1.000002"
    )
    await fake_slack.wait_for("views.open")
    view = fake_slack.opened[-1]
    assert view["callback_id"] == CallbackId.CASE_ESCALATE
    await slack.submit(
        view,
        {
            "escalate_to": {"type": "users_select", "selected_user": BOB},
            "reason": text_input("Looks like exfiltration <@U123>"),
        },
        user=ALICE,
    )
    notice = await fake_slack.wait_for(
        "chat.postMessage", lambda a: a["channel"] == ESCALATION_CHANNEL
    )
    shown = texts(notice["blocks"])
    assert "Escalated to <@UBOB0001>* by <@UALICE01>" in shown
    assert "&lt;@U123&gt;" in shown and "<@U123>" not in shown

    async def escalated() -> bool:
        detail = await store.get_case_detail(open_case.id)
        return detail is not None and detail.escalated

    assert await eventually(escalated)


async def test_add_to_case_shortcut_attaches_a_slack_message(
    slack: SignedSlack, fake_slack: FakeSlack, store: Store, open_case: CaseDetail
) -> None:
    await slack.interact(
        {
            "type": "message_action",
            "callback_id": CallbackId.ADD_TO_CASE,
            "user": {"id": ALICE},
            "channel": {"id": "CRANDOM1"},
            "message": {"ts": "1700000000.000100", "user": BOB, "text": "the VPN log shows it"},
            "response_url": fake_slack.response_url("shortcut"),
        }
    )
    await fake_slack.wait_for("views.open")
    view = fake_slack.opened[-1]
    assert view["callback_id"] == CallbackId.ADD_TO_CASE_MODAL
    await slack.submit(view, {"case_typed": text_input(open_case.id)}, user=ALICE)
    entries = await timeline_entry(store, open_case.id, TimelineKind.NOTE, "VPN log")
    summary = entries[0][1]
    assert summary.startswith("Slack message from bob (https://soar-test.slack.com/archives/")
    assert summary.endswith("the VPN log shows it")
    assert fake_slack.calls_to("chat.getPermalink")[-1]["channel"] == "CRANDOM1"


async def test_add_to_case_without_a_case_is_refused_in_the_modal(
    slack: SignedSlack, fake_slack: FakeSlack
) -> None:
    await slack.interact(
        {
            "type": "message_action",
            "callback_id": CallbackId.ADD_TO_CASE,
            "user": {"id": ALICE},
            "channel": {"id": "CRANDOM1"},
            "message": {"ts": "1.2", "user": BOB, "text": "x"},
            "response_url": fake_slack.response_url("shortcut"),
        }
    )
    await fake_slack.wait_for("views.open")
    response = await slack.submit(fake_slack.opened[-1], {}, user=ALICE)
    assert response.json()["response_action"] == "errors"


async def test_case_commands_change_the_case(
    slack: SignedSlack, fake_slack: FakeSlack, store: Store, open_case: CaseDetail
) -> None:
    await slack.command(f"note {open_case.id} seen before in ticket 4711")
    answer = texts((await fake_slack.wait_for_response())["blocks"])
    assert f"Note sent to case `{open_case.id}`" in answer
    await timeline_entry(store, open_case.id, TimelineKind.NOTE, "ticket 4711")

    await slack.command(f"assign {open_case.id} <@{BOB}|bob>")
    await fake_slack.wait_for_response(count=2)
    await slack.command(f"severity {open_case.id} high")
    await fake_slack.wait_for_response(count=3)

    async def changed() -> bool:
        detail = await store.get_case_detail(open_case.id)
        return detail is not None and detail.assignee == "bob" and detail.severity is Severity.HIGH

    assert await eventually(changed)

    await slack.command(f"case {open_case.id}")
    shown = texts((await fake_slack.wait_for_response(count=4))["blocks"])
    assert "Odd DNS lookups from the build farm" in shown and "<@UBOB0001>" in shown

    await slack.command(f"close {open_case.id} fp build farm DNS cache")
    await fake_slack.wait_for_response(count=5)

    async def closed() -> bool:
        detail = await store.get_case_detail(open_case.id)
        return detail is not None and detail.state is CaseState.CLOSED

    assert await eventually(closed)
    detail = await store.get_case_detail(open_case.id)
    assert detail is not None and detail.resolution is Resolution.FALSE_POSITIVE

    await slack.command(f"note {open_case.id} a note after closing")
    answer = texts((await fake_slack.wait_for_response(count=6))["blocks"])
    assert "Note sent" in answer
    await timeline_entry(store, open_case.id, TimelineKind.NOTE, "after closing")
    await slack.command(f"escalate {open_case.id} too late")
    answer = texts((await fake_slack.wait_for_response(count=7))["blocks"])
    assert "has ended" in answer


async def test_the_acknowledge_button_takes_the_case_on_and_leaves_the_message(
    slack: SignedSlack, fake_slack: FakeSlack, store: Store, open_case: CaseDetail
) -> None:
    await slack.click(
        ActionId.CASE_ACKNOWLEDGE, open_case.id, user=ALICE, channel=DEFAULT_CHANNEL, ts="1.3"
    )

    async def acknowledged() -> CaseDetail | None:
        detail = await store.get_case_detail(open_case.id)
        return detail if detail is not None and detail.acknowledged_by else None

    detail = await eventually(acknowledged)
    assert detail.acknowledged_by == "alice" and detail.acknowledged_at is not None
    [entry] = await timeline_entry(store, open_case.id, TimelineKind.ACKNOWLEDGED, "alice")
    assert entry[1] == "Acknowledged by alice"

    def shown_taken(call: dict[str, object]) -> bool:
        blocks = call.get("blocks")
        return isinstance(blocks, list) and "*Acknowledged*\n<@UALICE01>" in texts(blocks)

    update = await fake_slack.wait_for("chat.update", shown_taken)
    assert ActionId.CASE_ACKNOWLEDGE not in [b["action_id"] for b in buttons(update["blocks"])]


async def test_soar_ack_needs_triage_and_a_second_ack_changes_nothing(
    slack: SignedSlack, fake_slack: FakeSlack, store: Store, open_case: CaseDetail
) -> None:
    await slack.command(f"ack {open_case.id}", user=MALLORY)
    assert "not allowed" in texts((await fake_slack.wait_for_response())["blocks"])
    await slack.command(f"ack {open_case.id}")
    assert "Acknowledge sent" in texts((await fake_slack.wait_for_response(count=2))["blocks"])
    await timeline_entry(store, open_case.id, TimelineKind.ACKNOWLEDGED, "alice")
    await slack.command(f"ack {open_case.id}")
    await fake_slack.wait_for_response(count=3)
    await slack.command(f"note {open_case.id} after the acks")
    await timeline_entry(store, open_case.id, TimelineKind.NOTE, "after the acks")
    entries = await store.get_timeline(open_case.id)
    assert [e.kind for e in entries].count(TimelineKind.ACKNOWLEDGED) == 1


async def test_closing_needs_permission(
    slack: SignedSlack, fake_slack: FakeSlack, store: Store, open_case: CaseDetail
) -> None:
    await slack.command(f"close {open_case.id} benign", user=MALLORY)
    answer = texts((await fake_slack.wait_for_response())["blocks"])
    assert "not allowed to close" in answer
    detail = await store.get_case_detail(open_case.id)
    assert detail is not None and detail.state is not CaseState.CLOSED


async def test_app_home_is_published(
    slack: SignedSlack, fake_slack: FakeSlack, open_case: CaseDetail
) -> None:
    await slack.command(f"assign {open_case.id} <@{ALICE}|alice>")
    await fake_slack.wait_for_response()
    response = await slack.event({"type": "app_home_opened", "user": ALICE, "tab": "home"})
    assert response.status_code == 200
    published = await fake_slack.wait_for("views.publish")
    assert published["user_id"] == ALICE
    shown = texts(published["view"]["blocks"])
    for section in ("Approvals waiting for you", "Your cases", "Open critical cases"):
        assert section in shown
    assert "Active containments" in shown

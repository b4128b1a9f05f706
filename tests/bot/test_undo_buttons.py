"""Where Undo is offered: on a thread reply that says a containment took effect, once per
action, never for what cannot be undone or is over; in App Home beside each containment
in force, only for a person who may contain; and the modal asking why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.ids import ActionId, CallbackId, InputId
from bot.links import Links
from bot.messages import timeline_reply
from bot.people import People
from bot.settings import SlackSettings
from bot.views import home_view, undo_modal
from soar.cases.models import TimelineEvent, TimelineKind
from soar.containment.models import (
    ActionState,
    ContainmentAction,
    ContainmentCommand,
    block_ip,
    isolate,
    revoke_sessions,
)

from .support import buttons, texts

PEOPLE = People(SlackSettings())
LINKS = Links(api_base="https://soar.test", web_ui=None, namespace="default")
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def action(action_id: str, command: ContainmentCommand, state: ActionState) -> ContainmentAction:
    return ContainmentAction(
        id=action_id,
        case_id="case-1",
        command=command,
        state=state,
        created_at=NOW,
        applied_at=NOW,
        expires_at=NOW + timedelta(hours=1) if command.args.duration_seconds else None,
    )


def entry(n: int, done: ContainmentAction, kind: str = TimelineKind.CONTAINMENT) -> TimelineEvent:
    return TimelineEvent(
        id=f"e{n}",
        case_id="case-1",
        at=NOW,
        kind=kind,
        actor="playbook:malicious_ip",
        summary=f"{done.command.action.value} {done.command.target.value}: {done.state.value}",
        data={
            "action_id": done.id,
            "state": done.state.value,
            "command": done.command.model_dump(mode="json"),
        },
    )


def undo(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (b["value"], b["text"]["text"]) for b in buttons(blocks) if b["action_id"] == ActionId.UNDO
    ]


def test_a_reply_offers_undo_once_per_action_in_force_that_can_be_undone() -> None:
    blocked = action("a1", block_ip("45.83.64.1", 3600), ActionState.APPLIED)
    isolated = action("a2", isolate("ws-12"), ActionState.VERIFIED)
    revoked = action("a3", revoke_sessions("j.doe"), ActionState.APPLIED)
    undone = action("a4", block_ip("45.83.64.2", 60), ActionState.REVERTED)
    failed = action("a5", block_ip("45.83.64.3", 60), ActionState.FAILED)
    events = [
        entry(1, blocked),
        entry(2, blocked.model_copy(update={"state": ActionState.VERIFIED})),
        entry(3, isolated),
        entry(4, revoked),
        entry(5, undone),
        entry(6, failed),
        entry(7, action("a6", block_ip("45.83.64.4", 60), ActionState.APPLIED), TimelineKind.NOTE),
    ]
    rendered = timeline_reply(events, PEOPLE)
    assert rendered is not None
    assert undo(rendered.blocks) == [("a1", "Undo deny 45.83.64.1"), ("a2", "Undo contain ws-12")]

    only_over = timeline_reply([entry(1, undone), entry(2, revoked)], PEOPLE)
    assert only_over is not None and undo(only_over.blocks) == []


def test_app_home_offers_undo_beside_each_containment_only_to_who_may_contain() -> None:
    in_force = [
        action("a1", block_ip("45.83.64.1", 3600), ActionState.VERIFIED),
        action("a2", revoke_sessions("j.doe"), ActionState.APPLIED),
    ]
    views = {
        allowed: home_view(
            pending=[],
            mine=[],
            critical=[],
            containments=in_force,
            people=PEOPLE,
            links=LINKS,
            can_undo=allowed,
        )
        for allowed in (True, False)
    }
    accessories = [
        block["accessory"]
        for block in views[True]["blocks"]
        if block.get("accessory", {}).get("action_id") == ActionId.UNDO
    ]
    assert [a["value"] for a in accessories] == ["a1"]
    assert not any("accessory" in block for block in views[False]["blocks"])


def test_the_modal_says_what_is_undone_and_requires_a_reason() -> None:
    shown = undo_modal(action("a1", block_ip("45.83.64.1", 3600), ActionState.VERIFIED), "{}")
    assert shown["callback_id"] == CallbackId.UNDO_REASON
    assert "Undo *deny* `45.83.64.1`" in texts(shown["blocks"])
    [reason] = [b for b in shown["blocks"] if b.get("block_id") == InputId.REASON]
    assert reason.get("optional", False) is False

"""Renderers of the bot's surfaces other than messages: the modals (deny reason, note,
escalation, add a message to a case) and App Home.

Modals carry their context (which approval, which message) in `private_metadata` as
JSON; it is a reference the handlers look up again, never a grant of anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot import blocks as kit
from bot.ids import ActionId, CallbackId, InputId
from bot.links import Links
from bot.messages import SEVERITY_MARK
from bot.mrkdwn import clip, code, date, escape, link, oneline, quoted
from bot.people import People
from soar.approvals.models import ApprovalRequest, DecisionKind
from soar.containment.models import ContainmentAction
from soar.store.views import CaseSummary

REASON_CHARS = 2000
NOTE_CHARS = 3000
PREVIEW_CHARS = 1500
MAX_CASE_OPTIONS = 100
HOME_ITEMS = 15


def metadata(**values: str | None) -> str:
    """`private_metadata` for a modal: compact JSON, within Slack's 3000 characters."""
    text = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    if len(text) > kit.PRIVATE_METADATA:
        raise ValueError("modal metadata exceeds 3000 characters")
    return text


def read_metadata(view: dict[str, Any]) -> dict[str, str | None]:
    """The `private_metadata` a modal was opened with."""
    raw = view.get("private_metadata") or "{}"
    found = json.loads(raw)
    return found if isinstance(found, dict) else {}


def input_value(view: dict[str, Any], input_id: InputId) -> Any:
    """The submitted value of one input block (text, selected user or option)."""
    element = view.get("state", {}).get("values", {}).get(input_id.value, {}).get(input_id.value)
    if not element:
        return None
    if "selected_user" in element:
        return element["selected_user"]
    if "selected_option" in element:
        option = element["selected_option"]
        return option.get("value") if option else None
    value = element.get("value")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _modal(
    callback_id: str, title: str, submit: str, body: list[Block], meta: str
) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        blocks=body,
        private_metadata=meta,
    )
    return kit.surface(view)


def _text_input(
    input_id: InputId, label: str, *, max_length: int, optional: bool, multiline: bool = True
) -> InputBlock:
    return InputBlock(
        block_id=input_id.value,
        label=PlainTextObject(text=label),
        optional=optional,
        element=PlainTextInputElement(
            action_id=input_id.value, multiline=multiline, max_length=max_length
        ),
    )


def decision_modal(approval: ApprovalRequest, kind: DecisionKind, meta: str) -> dict[str, Any]:
    """Approve or deny a request, with an optional reason; approving shows the blast
    radius again, as the button's confirm dialog does."""
    what = f"{approval.action} {approval.target}"
    verb = "Approve" if kind is DecisionKind.APPROVE else "Deny"
    detail = approval.blast_radius if kind is DecisionKind.APPROVE else approval.reason
    body: list[Block] = [
        kit.section(f"{verb} *{oneline(what, 300)}*?\n{quoted(detail, 1000)}"),
        _text_input(InputId.REASON, "Reason (optional)", max_length=REASON_CHARS, optional=True),
    ]
    callback = CallbackId.APPROVE_REASON if kind is DecisionKind.APPROVE else CallbackId.DENY_REASON
    return _modal(callback, f"{verb} request", verb, body, meta)


def undo_modal(action: ContainmentAction, meta: str) -> dict[str, Any]:
    """Revert a containment in force now: what it is, on which case, and why (required,
    recorded on the case's timeline)."""
    command = action.command
    until = f"until {date(action.expires_at)}" if action.expires_at else "until reverted"
    body: list[Block] = [
        kit.section(
            f"Undo *{command.action.value}* {code(command.target.value)} ({until}) on case "
            f"{code(action.case_id)}? The actuators revert it now and its expiry is cancelled."
        ),
        _text_input(InputId.REASON, "Why", max_length=REASON_CHARS, optional=False),
    ]
    return _modal(CallbackId.UNDO_REASON, "Undo containment", "Undo", body, meta)


def note_modal(case_title: str, meta: str) -> dict[str, Any]:
    """Add a note to a case."""
    body: list[Block] = [
        kit.section(f"Note on *{oneline(case_title, 300)}*"),
        _text_input(InputId.NOTE, "Note", max_length=NOTE_CHARS, optional=False),
    ]
    return _modal(CallbackId.CASE_NOTE, "Add note", "Add", body, meta)


def escalate_modal(case_title: str, meta: str) -> dict[str, Any]:
    """Escalate a case: to whom (optional) and why."""
    body: list[Block] = [
        kit.section(f"Escalate *{oneline(case_title, 300)}*"),
        InputBlock(
            block_id=InputId.ESCALATE_TO.value,
            label=PlainTextObject(text="To whom"),
            optional=True,
            element=UserSelectElement(action_id=InputId.ESCALATE_TO.value),
        ),
        _text_input(InputId.REASON, "Why", max_length=REASON_CHARS, optional=False),
    ]
    return _modal(CallbackId.CASE_ESCALATE, "Escalate case", "Escalate", body, meta)


def add_to_case_modal(cases: Sequence[CaseSummary], preview: str, meta: str) -> dict[str, Any]:
    """Attach a Slack message to a case: pick a recent open case or type an id."""
    body: list[Block] = [kit.section(f"*Message*\n{quoted(preview, PREVIEW_CHARS)}")]
    if cases:
        options = [
            Option(
                value=case.id,
                text=PlainTextObject(text=clip(escape(f"{case.severity.value}: {case.title}"), 75)),
            )
            for case in cases[:MAX_CASE_OPTIONS]
        ]
        body.append(
            InputBlock(
                block_id=InputId.CASE.value,
                label=PlainTextObject(text="Case"),
                optional=True,
                element=StaticSelectElement(action_id=InputId.CASE.value, options=options),
            )
        )
    body.append(
        _text_input(
            InputId.CASE_TYPED, "Or a case id", max_length=300, optional=True, multiline=False
        )
    )
    return _modal(CallbackId.ADD_TO_CASE_MODAL, "Add to case", "Add", body, meta)


def home_view(
    *,
    pending: Sequence[ApprovalRequest],
    mine: Sequence[CaseSummary],
    critical: Sequence[CaseSummary],
    containments: Sequence[ContainmentAction],
    people: People,
    links: Links,
    can_undo: bool = False,
) -> dict[str, Any]:
    """App Home: what waits for me, my cases, open critical cases, containments in force
    (each with an Undo button for a person who may contain; the click is checked again
    on the server)."""
    body: list[Block] = [kit.header("SOAR")]
    body += _home_section(
        "Approvals waiting for you", [_approval_line(a, people, links) for a in pending]
    )
    body += _home_section("Your cases", [_case_line(c, links) for c in mine])
    body += _home_section("Open critical cases", [_case_line(c, links) for c in critical])
    body += _home_section(
        "Active containments",
        [_containment_line(a) for a in containments],
        [_undo_button(a) if can_undo else None for a in containments],
    )
    body.append(kit.context([f"Updated {date(datetime.now(UTC))} · `/soar help` for commands"]))
    return kit.surface(View(type="home", blocks=body))


def _home_section(
    title: str, lines: Sequence[str], buttons: Sequence[ButtonElement | None] = ()
) -> list[Block]:
    """A titled list; `buttons`, when given, sit beside the lines they belong to."""
    shown: list[Block] = [
        kit.section(line, accessory=buttons[index] if index < len(buttons) else None)
        for index, line in enumerate(lines[:HOME_ITEMS])
    ]
    if len(lines) > HOME_ITEMS:
        shown.append(kit.section(f"… and {len(lines) - HOME_ITEMS} more"))
    return [
        kit.divider(),
        kit.section(f"*{title}*"),
        *(shown or [kit.section("_Nothing right now._")]),
    ]


def _undo_button(action: ContainmentAction) -> ButtonElement | None:
    if not action.command.action.revertible:
        return None
    return kit.button("Undo", ActionId.UNDO, action.id, style="danger")


def _approval_line(approval: ApprovalRequest, people: People, links: Links) -> str:
    approvals = sum(d.decision is DecisionKind.APPROVE for d in approval.decisions)
    api = link(links.approval(approval.id), "API") or ""
    return (
        f"*{oneline(approval.action, 100)}* {code(approval.target)} · "
        f"{approvals} of {approval.quorum} · expires {date(approval.expires_at)} · "
        f"requested by {people.show(approval.requested_by)} · case {code(approval.case_id)} {api}"
    )


def _case_line(case: CaseSummary, links: Links) -> str:
    api = link(links.case(case.id), "API") or ""
    return (
        f"{SEVERITY_MARK[case.severity]} *{oneline(case.title, 200)}* · "
        f"{case.state.value.replace('_', ' ')} · {case.alert_count} alerts · "
        f"{code(case.id)} {api}"
    )


def _containment_line(action: ContainmentAction) -> str:
    until = f"until {date(action.expires_at)}" if action.expires_at else "until reverted"
    return (
        f"{action.command.action.value} {code(action.command.target.value)} · "
        f"{action.state.value} · {until} · case {code(action.case_id)}"
    )

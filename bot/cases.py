"""Documenting, acknowledging and escalating cases: the Acknowledge, Add note and
Escalate buttons of the case message, their modals, and the "Add to case" shortcut.

Everything lands as a `command` signal to the case workflow (see
:mod:`bot.case_commands`), with an id derived from the Slack view, so the timeline
records it once. The case workflow announces escalations in the escalation channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Bot
from bot.ids import ActionId, CallbackId, InputId
from bot.interactions import Click, tell
from bot.mrkdwn import clip, code, escape
from bot.permissions import refusal
from bot.settings import Permission
from bot.views import (
    PREVIEW_CHARS,
    add_to_case_modal,
    escalate_modal,
    input_value,
    metadata,
    note_modal,
    read_metadata,
)
from soar.cases import service
from soar.cases.models import CaseCommand, CaseCommandKind, CaseState
from soar.errors import NotFoundError, OperationError

log = logging.getLogger(__name__)
MAX_NOTE_CHARS = 10_000
RECENT_CASES = 100


def register(app: AsyncApp, bot: Bot) -> None:
    """Add the note, escalation and shortcut handlers to the app."""

    @app.action(ActionId.CASE_NOTE)
    async def open_note(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await _open_case_modal(bot, client, body, Click.of(body, action), note_modal)

    @app.action(ActionId.CASE_ACKNOWLEDGE)
    async def acknowledge(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        click = Click.of(body, action)
        command = CaseCommand(
            # One acknowledgement per person and case however often they click.
            id=f"slack:ack:{click.value}:{click.user}",
            kind=CaseCommandKind.ACKNOWLEDGE,
            actor=bot.people.name(click.user),
        )
        answer = await change_case(bot, click.user, click.value, command, Permission.TRIAGE)
        await tell(client, click.channel, click.user, answer.text)

    @app.action(ActionId.CASE_ESCALATE)
    async def open_escalation(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await _open_case_modal(bot, client, body, Click.of(body, action), escalate_modal)

    @app.view(CallbackId.CASE_NOTE)
    async def note_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        meta, user = read_metadata(view), body["user"]["id"]
        command = CaseCommand(
            id=f"slack:{view['id']}",
            kind=CaseCommandKind.NOTE,
            actor=bot.people.name(user),
            text=clip(input_value(view, InputId.NOTE) or "", MAX_NOTE_CHARS),
        )
        answer = await change_case(bot, user, meta.get("case_id"), command)
        await tell(client, meta.get("channel"), user, answer.text)

    @app.view(CallbackId.CASE_ESCALATE)
    async def escalation_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        meta, user = read_metadata(view), body["user"]["id"]
        to = input_value(view, InputId.ESCALATE_TO)
        command = CaseCommand(
            id=f"slack:{view['id']}",
            kind=CaseCommandKind.ESCALATE,
            actor=bot.people.name(user),
            text=input_value(view, InputId.REASON),
            data={"to": to} if to else {},
        )
        answer = await change_case(bot, user, meta.get("case_id"), command)
        await tell(client, meta.get("channel"), user, answer.text)

    @app.shortcut(CallbackId.ADD_TO_CASE)
    async def add_to_case(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        message = body.get("message") or {}
        cases = [
            case
            for case in await bot.store.list_cases(limit=RECENT_CASES)
            if case.state is not CaseState.CLOSED
        ]
        text = message.get("text") or ""
        meta = metadata(
            channel=(body.get("channel") or {}).get("id"),
            ts=message.get("ts"),
            author=message.get("user") or message.get("bot_id"),
            text=text[:PREVIEW_CHARS],
        )
        await client.views_open(
            trigger_id=body["trigger_id"], view=add_to_case_modal(cases, text, meta)
        )

    @app.view(CallbackId.ADD_TO_CASE_MODAL)
    async def add_to_case_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        case_id = input_value(view, InputId.CASE_TYPED) or input_value(view, InputId.CASE)
        if not case_id:
            await ack(
                response_action="errors",
                errors={InputId.CASE_TYPED.value: "Pick a case or type its id."},
            )
            return
        await ack()
        meta, user = read_metadata(view), body["user"]["id"]
        permalink = await _permalink(client, meta.get("channel"), meta.get("ts"))
        author_id = meta.get("author")
        author = bot.people.name(author_id) if author_id else "someone"
        command = CaseCommand(
            id=f"slack:{view['id']}",
            kind=CaseCommandKind.NOTE,
            actor=bot.people.name(user),
            text=clip(
                f"Slack message from {author} ({permalink or 'no link'}):\n"
                f"{meta.get('text') or ''}",
                MAX_NOTE_CHARS,
            ),
            data={
                "slack": {
                    "channel": meta.get("channel"),
                    "ts": meta.get("ts"),
                    "author": author,
                    "permalink": permalink,
                }
            },
        )
        answer = await change_case(bot, user, case_id, command)
        await tell(client, meta.get("channel"), user, answer.text)


async def _open_case_modal(
    bot: Bot,
    client: AsyncWebClient,
    body: dict[str, Any],
    click: Click,
    render: Callable[[str, str], dict[str, Any]],
) -> None:
    try:
        case = await service.find_case(bot.store, click.value)
    except NotFoundError as error:
        await tell(client, click.channel, click.user, escape(error.message))
        return
    meta = metadata(case_id=case.id, channel=click.channel)
    await client.views_open(trigger_id=body["trigger_id"], view=render(case.title, meta))


@dataclass(frozen=True)
class Answer:
    """How a change went, in safe mrkdwn for the person who asked."""

    ok: bool
    text: str


async def change_case(
    bot: Bot,
    user: str,
    case_id: str | None,
    command: CaseCommand,
    permission: Permission = Permission.READ,
) -> Answer:
    """Check the permission and send the command to the case."""
    if not await bot.permissions.allows(user, permission):
        return Answer(False, f":no_entry: {refusal(permission)}")
    try:
        sent = await service.send_command(bot.temporal, bot.store, case_id or "", command)
    except OperationError as error:
        return Answer(False, f":warning: {escape(error.message)}")
    done = command.kind.value.replace("_", " ").capitalize()
    return Answer(True, f":white_check_mark: {done} sent to case {code(sent.case.id)}")


async def _permalink(client: AsyncWebClient, channel: str | None, ts: str | None) -> str | None:
    if not channel or not ts:
        return None
    try:
        response = await client.chat_getPermalink(channel=channel, message_ts=ts)
    except SlackApiError as error:
        log.warning("no permalink for %s/%s: %s", channel, ts, error.response.get("error"))
        return None
    return response.get("permalink")

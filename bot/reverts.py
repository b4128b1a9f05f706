"""Undo: the button on a containment's thread reply and beside each containment in
App Home, and the modal that asks why.

Both the click and the submitted modal are checked on the server against
`slack.permissions.contain` (the permission that asks for containment); a button only
names the action. The revert itself is :func:`soar.containment.service.revert`, the one
the API and the CLI use, so it goes through Temporal (the action's expiry workflow, or a
revert workflow of its own) and a refusal reads the same everywhere ("action … cannot
be reverted: it is already reverted"), privately.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.channel import SlackChannel
from bot.context import Bot
from bot.home import publish_home
from bot.ids import ActionId, CallbackId, InputId
from bot.interactions import Click, answer
from bot.mrkdwn import code, escape
from bot.permissions import refusal
from bot.settings import Permission
from bot.views import input_value, metadata, read_metadata, undo_modal
from soar.containment import service
from soar.containment.contract import RevertRequest, revert_refusal
from soar.containment.models import ContainmentAction
from soar.errors import OperationError

HOME = "home"


def register(app: AsyncApp, bot: Bot) -> None:
    """Add the Undo button's and the modal's handlers to the app."""

    @app.action(ActionId.UNDO)
    async def undo(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await ask_why(bot, client, body, Click.of(body, action))

    @app.view(CallbackId.UNDO_REASON)
    async def undo_submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        meta = read_metadata(view)
        click = Click(
            user=body["user"]["id"],
            value=meta.get("action_id") or "",
            channel=meta.get("channel"),
            ts=None,
        )
        await undo_now(
            bot, client, click, input_value(view, InputId.REASON) or "", meta.get("surface") == HOME
        )


async def ask_why(bot: Bot, client: AsyncWebClient, body: dict[str, Any], click: Click) -> None:
    """Open the modal asking why; a person who may not, or an action that cannot be
    reverted, is answered at once instead."""
    checked = await _check(bot, click)
    if isinstance(checked, str):
        await answer(client, click.channel, click.user, checked)
        return
    surface = HOME if not click.channel else None
    meta = metadata(action_id=checked.id, channel=click.channel, surface=surface)
    await client.views_open(trigger_id=body["trigger_id"], view=undo_modal(checked, meta))


async def undo_now(
    bot: Bot, client: AsyncWebClient, click: Click, reason: str, from_home: bool
) -> None:
    """Check again, revert, and tell the person how it went (App Home is refreshed when
    the click came from there)."""
    checked = await _check(bot, click)
    if isinstance(checked, str):
        await answer(client, click.channel, click.user, checked)
        return
    try:
        done = await service.revert(
            bot.temporal,
            bot.store,
            checked.id,
            RevertRequest(user=bot.people.name(click.user), reason=reason),
            task_queue=bot.settings.temporal.task_queue,
            channels=[SlackChannel.name],
        )
    except OperationError as error:
        await answer(client, click.channel, click.user, f":warning: {escape(error.message)}")
        return
    command = done.action.command
    what = f"{command.action.value} {code(command.target.value)}"
    if done.done:
        text = f":white_check_mark: Reverted {what} (action {code(done.action.id)})."
    else:
        text = f":warning: Not reverted: {what}: {escape(done.action.detail or '')}"
    await answer(client, click.channel, click.user, text)
    if from_home:
        await publish_home(bot, client, click.user)


async def _check(bot: Bot, click: Click) -> ContainmentAction | str:
    """The action, when this person may revert it and it can be; else what to tell them."""
    if not await bot.permissions.allows(click.user, Permission.CONTAIN):
        return f":no_entry: {refusal(Permission.CONTAIN)}"
    try:
        action = await service.find_action(bot.store, click.value)
    except OperationError as error:
        return f":warning: {escape(error.message)}"
    refused = revert_refusal(action)
    return f":warning: {escape(refused)}" if refused else action

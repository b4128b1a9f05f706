"""Approve, Approve with reason and Deny: the buttons of an approval message and the
modal that takes an optional reason.

Each handler acknowledges first (Slack waits 3 seconds), then checks on the server
that the person may decide, sends the `decide` Update, and shows the outcome: the
message re-rendered for everyone (without buttons once settled), or a private refusal
in the validator's own words, which is also recorded on the case's timeline. A click on
a request already settled — late, or the same person's second click — is answered
privately with who settled it and when ("already approved by alice at …", the words the
API and the CLI answer with), and audited.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.context import Bot
from bot.ids import ActionId, CallbackId, InputId
from bot.interactions import Click, tell
from bot.mrkdwn import escape
from bot.permissions import refusal
from bot.settings import Permission
from bot.views import decision_modal, input_value, metadata, read_metadata
from soar.approvals import service
from soar.approvals.audit import record_refusal
from soar.approvals.models import ApprovalRequest, ApprovalState, DecisionKind, DecisionRequest
from soar.approvals.service import DecisionRefusedError
from soar.errors import NotFoundError, UnavailableError


def register(app: AsyncApp, bot: Bot) -> None:
    """Add the approval handlers to the app."""

    @app.action(ActionId.APPROVE)
    async def approve(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await decide(bot, client, Click.of(body, action), DecisionKind.APPROVE, None)

    @app.action(ActionId.APPROVE_WITH_REASON)
    async def approve_with_reason(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await ask_reason(bot, client, body, Click.of(body, action), DecisionKind.APPROVE)

    @app.action(ActionId.DENY)
    async def deny(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await ask_reason(bot, client, body, Click.of(body, action), DecisionKind.DENY)

    @app.view(CallbackId.APPROVE_REASON)
    async def approved_with_reason(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await decide_from_modal(bot, client, body, view, DecisionKind.APPROVE)

    @app.view(CallbackId.DENY_REASON)
    async def denied_with_reason(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        await decide_from_modal(bot, client, body, view, DecisionKind.DENY)


async def ask_reason(
    bot: Bot, client: AsyncWebClient, body: dict[str, Any], click: Click, kind: DecisionKind
) -> None:
    """Open the modal that takes an optional reason; a request no longer open is answered
    at once (who settled it, and when)."""
    approval = await bot.store.get_approval(click.value)
    if approval is None or approval.state is not ApprovalState.PENDING:
        await decide(bot, client, click, kind, None)
        return
    meta = metadata(approval_id=approval.id, channel=click.channel, ts=click.ts)
    await client.views_open(
        trigger_id=body["trigger_id"], view=decision_modal(approval, kind, meta)
    )


async def decide_from_modal(
    bot: Bot,
    client: AsyncWebClient,
    body: dict[str, Any],
    view: dict[str, Any],
    kind: DecisionKind,
) -> None:
    """The decision a submitted reason modal carries."""
    meta = read_metadata(view)
    click = Click(
        user=body["user"]["id"],
        value=meta.get("approval_id") or "",
        channel=meta.get("channel"),
        ts=meta.get("ts"),
    )
    await decide(bot, client, click, kind, input_value(view, InputId.REASON))


async def decide(
    bot: Bot, client: AsyncWebClient, click: Click, kind: DecisionKind, reason: str | None
) -> None:
    """Check, send and show one decision (see the module docstring)."""
    try:
        approval = await service.find_approval(bot.store, click.value)
    except NotFoundError as error:
        await tell(client, click.channel, click.user, f":no_entry: {escape(error.message)}")
        return
    request = DecisionRequest(
        approval_id=approval.id, decision=kind, user=bot.people.name(click.user), reason=reason
    )
    if not await bot.permissions.allows(click.user, Permission.DECIDE):
        message = refusal(Permission.DECIDE)
        await record_refusal(bot.store, approval, request, message)
        await tell(client, click.channel, click.user, f":no_entry: Not recorded: {message}.")
        return
    try:
        result = await service.decide(bot.temporal, bot.store, request)
    except DecisionRefusedError as error:
        await tell(
            client, click.channel, click.user, f":no_entry: Not recorded: {escape(error.message)}"
        )
        await _show(bot, approval.id, click)
        return
    except UnavailableError as error:
        await tell(client, click.channel, click.user, f":warning: {escape(error.message)}")
        return
    if result.request is None:
        fresh = await _show(bot, approval.id, click)
    else:
        fresh = result.request
        await bot.publisher.sync_approval(fresh, shown_at=click.message)
    if fresh.state is ApprovalState.PENDING:
        await tell(
            client, click.channel, click.user, f":ballot_box_with_check: {escape(result.message)}"
        )


async def _show(bot: Bot, approval_id: str, click: Click) -> ApprovalRequest:
    """Re-render the approval message as the workflow has the request now."""
    fresh = await service.current_approval(bot.temporal, bot.store, approval_id)
    await bot.publisher.sync_approval(fresh, shown_at=click.message)
    return fresh

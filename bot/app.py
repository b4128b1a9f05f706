"""The Slack bot: one slack-bolt `AsyncApp`, served over HTTP or Socket Mode.

- HTTP: :func:`mount_slack` adds `POST /slack/events` to the product's API. Bolt checks
  Slack's signature and its 5-minute window on every request; a request that fails it
  gets 401 and reaches no handler.
- Socket Mode: :func:`run_socket_mode` opens Slack's outbound WebSocket with the app
  token (`xapp-…`), for teams without a public endpoint.

Every handler acknowledges first and works afterwards (`process_before_response=False`),
so Slack always has its answer within 3 seconds. Without Slack settings nothing is
mounted and nothing fails.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import approvals, cases, commands, home, reverts
from bot.clients import SlackNotConfigured, web_client
from bot.context import Bot
from bot.ids import ActionId
from bot.settings import slack_mode
from soar.api.deps import Services

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


def build_app(services: Services, *, socket_mode: bool = False) -> AsyncApp:
    """The bot's app with every handler registered.

    Over HTTP the signing secret is required and verified; in Socket Mode requests
    arrive on the authenticated WebSocket, where Slack does not sign them.
    """
    settings = services.settings
    secret = settings.slack_signing_secret
    if not socket_mode and secret is None:
        raise SlackNotConfigured("SLACK_SIGNING_SECRET is not set")
    client = web_client(settings, interactive=True)
    app = AsyncApp(
        name="soar",
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        process_before_response=False,
        request_verification_enabled=not socket_mode,
    )
    bot = Bot.assemble(settings, services.client, services.store, client)
    for module in (approvals, cases, commands, home, reverts):
        module.register(app, bot)

    @app.action(ActionId.LINK)
    async def link_opened(ack: AsyncAck) -> None:
        await ack()

    return app


def mount_slack(app: FastAPI, services: Services) -> None:
    """Serve the bot at `POST /slack/events` when Slack is configured (bot token and
    signing secret); otherwise leave the API as it is."""
    if not slack_mode(services.settings).http:
        log.info("Slack is off: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not both set")
        return
    handler = AsyncSlackRequestHandler(build_app(services))
    limit = services.settings.max_body_bytes

    @app.post(EVENTS_PATH, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        """Slack's commands, interactivity and events (signature checked by Bolt)."""
        if int(request.headers.get("content-length") or 0) > limit:
            return Response(status_code=413)
        return await handler.handle(request)


def socket_mode_configured(services: Services) -> bool:
    """Whether :func:`run_socket_mode` can run: a bot token and an app token."""
    return slack_mode(services.settings).socket


async def run_socket_mode(services: Services) -> None:
    """Connect to Slack over Socket Mode and serve until cancelled.

    Raises :class:`~bot.clients.SlackNotConfigured` without `SLACK_BOT_TOKEN` and
    `SLACK_APP_TOKEN` (check :func:`socket_mode_configured` first to run it only when
    they are set).
    """
    token = services.settings.slack_app_token
    if token is None or services.settings.slack_bot_token is None:
        raise SlackNotConfigured("Socket Mode needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN")
    app = build_app(services, socket_mode=True)
    handler = AsyncSocketModeHandler(app, token.get_secret_value())
    try:
        # slack_bolt's Socket Mode handler is not annotated; these two return None.
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("Slack bot connected over Socket Mode")
        await asyncio.Event().wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]

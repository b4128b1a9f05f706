"""Reading Slack interaction payloads and answering the person privately."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Click:
    """Who clicked which button, on which message."""

    user: str
    value: str
    channel: str | None
    ts: str | None

    @classmethod
    def of(cls, body: dict[str, Any], action: dict[str, Any]) -> Click:
        container = body.get("container") or {}
        return cls(
            user=body["user"]["id"],
            value=str(action.get("value") or ""),
            channel=container.get("channel_id") or (body.get("channel") or {}).get("id"),
            ts=container.get("message_ts") or (body.get("message") or {}).get("ts"),
        )

    @property
    def message(self) -> tuple[str, str] | None:
        """The channel and timestamp of the clicked message, when it is in a channel."""
        return (self.channel, self.ts) if self.channel and self.ts else None


async def tell(client: AsyncWebClient, channel: str | None, user: str, text: str) -> None:
    """An ephemeral message (safe mrkdwn) only `user` sees, in `channel`. Best effort:
    a channel the bot cannot post in is logged, not raised."""
    if not channel:
        return
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as error:
        log.warning("cannot tell %s in %s: %s", user, channel, error.response.get("error"))


async def answer(client: AsyncWebClient, channel: str | None, user: str, text: str) -> None:
    """Tell `user` privately: ephemerally in `channel`, or — for a click in App Home or a
    modal, which has no channel — in a direct message from the app. Best effort."""
    if channel:
        await tell(client, channel, user, text)
        return
    try:
        await client.chat_postMessage(channel=user, text=text)
    except SlackApiError as error:
        log.warning("cannot write to %s: %s", user, error.response.get("error"))

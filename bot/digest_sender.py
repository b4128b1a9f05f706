"""Slack as the digests' way to management: the digest message, then its chart as a PNG.

The digest activity (soar.reports.digest_activities) calls :meth:`SlackDigestSender.post`
and Temporal retries it until Slack answers, so each step is done once: the message
and the chart are each remembered in `slack_messages` under the digest's key
(`digest:<period>:<date>`, `digest-chart:<period>:<date>`), and a retry after the
message went out uploads the chart without posting the message again. The chart goes
through Slack's upload flow (`files.getUploadURLExternal`, the bytes to the URL it
gives, `files.completeUploadExternal` sharing it in the channel), right after the
message. A 429 becomes a retry after Slack's `Retry-After` (see bot.channel).
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from temporalio.exceptions import ApplicationError

from bot.channel import slack_failure
from bot.clients import web_client
from bot.message_store import SlackMessageStore
from soar.reports.digest_activities import DigestPost
from soar.settings import Settings
from soar.store.db import Store


class SlackDigestSender:
    """Posts digests with the bot token: the Slack
    :class:`~soar.reports.digest_activities.DigestPoster`."""

    name = "Slack"

    def __init__(self, client: AsyncWebClient, messages: SlackMessageStore) -> None:
        self._client = client
        self._messages = messages

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> SlackDigestSender | None:
        """The sender with the bot token; none without one."""
        if settings.slack_bot_token is None:
            return None
        return cls(web_client(settings, interactive=False), SlackMessageStore(store.engine))

    async def post(self, post: DigestPost) -> str:
        """Post the digest and its chart in `post.channel`, each once; `posted`, or
        `already posted` when both were out before."""
        message_key, chart_key = f"digest:{post.key}", f"digest-chart:{post.key}"
        try:
            message = await self._messages.get(message_key)
            if message is None:
                response = await self._client.chat_postMessage(
                    channel=post.channel,
                    text=post.text,
                    blocks=post.blocks,
                    unfurl_links=False,
                    unfurl_media=False,
                )
                channel, ts = str(response["channel"]), str(response["ts"])
                await self._messages.save(message_key, channel=channel, ts=ts, version="1")
            else:
                channel, ts = message.channel, message.ts
            if await self._messages.get(chart_key) is not None:
                return "already posted"
            upload = await self._client.files_upload_v2(
                channel=channel,
                file=post.chart_png,
                filename=post.chart_filename,
                title=post.chart_title,
                alt_txt=post.chart_title,
            )
            file_id = str((upload.get("file") or {}).get("id", ""))
            await self._messages.save(
                chart_key, channel=channel, ts=ts, version="1", context={"file_id": file_id}
            )
        except SlackApiError as error:
            raise slack_failure(error) from error
        except SlackRequestError as error:
            raise ApplicationError(
                f"Slack did not take the chart's upload: {error}", type="SlackUploadFailed"
            ) from error
        return "posted"

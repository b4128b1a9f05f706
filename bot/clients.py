"""The Slack Web API clients the bot uses, pointed at `SLACK_API_URL` when set (GovSlack,
an enterprise proxy, or the fake Slack server of the tests)."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from soar.settings import Settings

DEFAULT_API_URL = "https://slack.com/api/"
TIMEOUT_SECONDS = 10
INTERACTIVE_RATE_LIMIT_RETRIES = 2


class SlackNotConfigured(RuntimeError):
    """A Slack part was asked for without the settings it needs."""


def api_url(settings: Settings) -> str:
    """The Web API base URL, ending in `/` as `slack_sdk` expects."""
    url = settings.slack_api_url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def web_client(settings: Settings, *, interactive: bool) -> AsyncWebClient:
    """A client with the bot token.

    `interactive` clients (the handlers answering a click) wait out a short 429 once or
    twice, as a person is waiting; the activities' client does not, so the 429 reaches
    Temporal, which retries after `Retry-After` without holding a worker slot.
    """
    if settings.slack_bot_token is None:
        raise SlackNotConfigured("SLACK_BOT_TOKEN is not set")
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=api_url(settings),
        timeout=TIMEOUT_SECONDS,
    )
    if interactive:
        client.retry_handlers.append(
            AsyncRateLimitErrorRetryHandler(max_retry_count=INTERACTIVE_RATE_LIMIT_RETRIES)
        )
    return client

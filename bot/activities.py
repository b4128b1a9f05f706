"""The Slack activities the workflows call: case messages, timeline replies, approval
messages and escalation notices.

Slack posts run as activities so that a Slack outage delays messages and loses none:
Temporal retries until Slack answers. A 429 becomes an `ApplicationError` whose
`next_retry_delay` is Slack's `Retry-After`, so the retry waits exactly as long as
Slack asks; a channel busy with the bot's own posts for more than a second does the
same (a benign failure, logged at debug level), so no activity sleeps in a worker
slot. Without `SLACK_BOT_TOKEN` every activity returns `skipped`, so workflows call
them unconditionally.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from bot.clients import web_client
from bot.links import Links
from bot.message_store import SlackMessageStore
from bot.pacing import Busy, Pacer
from bot.publisher import CaseMessageMissing, Publisher
from bot.settings import slack_settings
from soar.approvals.models import ApprovalRequest
from soar.chatops.models import (
    NOTIFY_ESCALATION,
    NOTIFY_PERSON,
    POST_APPROVAL_MESSAGE,
    POST_CASE_MESSAGE,
    POST_TIMELINE_REPLY,
    UPDATE_APPROVAL_MESSAGE,
    CaseMessageRequest,
    EscalationNotice,
    PersonNotice,
    SlackPost,
    TimelineReplyRequest,
)
from soar.settings import Settings
from soar.store.db import Store

PERMANENT_ERRORS = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "invalid_arguments"}
)
"""Slack errors about the message itself: retrying the same message cannot help. Every
other error (auth, a missing channel, the bot not in it) can be fixed by an
administrator, and the retried post then lands."""
DEFAULT_RETRY_AFTER = 1
CASE_MESSAGE_WAIT = timedelta(seconds=2)
MAX_INLINE_WAIT = 1.0
"""The longest an activity waits for its turn in a channel while holding a worker slot;
a longer wait becomes a retry after exactly that wait."""


def retry_after(error: SlackApiError) -> int:
    """Slack's `Retry-After` in seconds (1 when absent or unreadable)."""
    headers = getattr(error.response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(int(str(value).strip()), 1)
            except ValueError:
                return DEFAULT_RETRY_AFTER
    return DEFAULT_RETRY_AFTER


def slack_failure(error: SlackApiError) -> ApplicationError:
    """The Temporal failure for a Slack error: a delayed retry for a 429, no retry for a
    malformed message, an ordinary retry for everything else."""
    code = error.response.get("error") or "unknown_error"
    if error.response.status_code == 429:
        seconds = retry_after(error)
        return ApplicationError(
            f"Slack rate limit ({code}); retrying in {seconds} s",
            type="SlackRateLimited",
            next_retry_delay=timedelta(seconds=seconds),
        )
    return ApplicationError(
        f"Slack refused the call: {code}",
        type="SlackApiError",
        non_retryable=code in PERMANENT_ERRORS,
    )


class SlackActivities:
    """The Slack activities, over one publisher (or none when Slack is off)."""

    def __init__(self, publisher: Publisher | None) -> None:
        self._publisher = publisher

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> SlackActivities:
        """Activities posting with the bot token; inert without one."""
        if settings.slack_bot_token is None:
            return cls(None)
        slack = slack_settings(settings)
        publisher = Publisher(
            web_client(settings, interactive=False),
            slack,
            store,
            SlackMessageStore(store.engine),
            Links.from_settings(settings),
            Pacer(
                slack.post_interval_seconds,
                slack.update_interval_seconds,
                MAX_INLINE_WAIT,
                slack.updates_per_minute,
            ),
        )
        return cls(publisher)

    def all(self) -> list[Callable[..., Any]]:
        """Every Slack activity, for a worker."""
        return [
            self.post_case_message,
            self.post_timeline_reply,
            self.post_approval_message,
            self.update_approval_message,
            self.notify_escalation,
            self.notify_person,
        ]

    @activity.defn(name=POST_CASE_MESSAGE)
    async def post_case_message(self, request: CaseMessageRequest) -> SlackPost:
        """Post the case's message in the channel for its severity, or update it in place
        (coalescing concurrent updates of one case)."""
        return await self._run(lambda publisher: publisher.sync_case(request))

    @activity.defn(name=POST_TIMELINE_REPLY)
    async def post_timeline_reply(self, request: TimelineReplyRequest) -> SlackPost:
        """Post new timeline entries as one reply in the case message's thread (retried
        until the case message exists)."""
        return await self._run(lambda publisher: publisher.reply(request))

    @activity.defn(name=POST_APPROVAL_MESSAGE)
    async def post_approval_message(self, approval: ApprovalRequest) -> SlackPost:
        """Post an approval request with its Approve and Deny buttons (once)."""
        return await self._run(lambda publisher: publisher.sync_approval(approval))

    @activity.defn(name=UPDATE_APPROVAL_MESSAGE)
    async def update_approval_message(self, approval: ApprovalRequest) -> SlackPost:
        """Re-render an approval request as it stands now: progress, decided, expired."""
        return await self._run(lambda publisher: publisher.sync_approval(approval))

    @activity.defn(name=NOTIFY_ESCALATION)
    async def notify_escalation(self, notice: EscalationNotice) -> SlackPost:
        """Announce an escalation in the escalation channel (once per escalation)."""
        return await self._run(lambda publisher: publisher.notify_escalation(notice))

    @activity.defn(name=NOTIFY_PERSON)
    async def notify_person(self, notice: PersonNotice) -> SlackPost:
        """Tell a person (a direct message) or a channel what a playbook did (once)."""
        return await self._run(lambda publisher: publisher.notify_person(notice))

    async def _run(self, call: Callable[[Publisher], Awaitable[SlackPost]]) -> SlackPost:
        if self._publisher is None:
            return SlackPost(outcome="skipped")
        try:
            return await call(self._publisher)
        except SlackApiError as error:
            raise slack_failure(error) from error
        except CaseMessageMissing as error:
            raise ApplicationError(
                str(error), type="CaseMessageMissing", next_retry_delay=CASE_MESSAGE_WAIT
            ) from error
        except Busy as busy:
            raise ApplicationError(
                str(busy),
                type="SlackBusy",
                next_retry_delay=timedelta(seconds=busy.wait),
                category=ApplicationErrorCategory.BENIGN,
            ) from busy

"""Slack as a notification channel: what each of the workflows' notifications becomes
in Slack — the case message, thread replies, approval messages, escalation and person
notices.

The `notify.*` activities (soar.notifications.activities) call this channel, so a Slack
outage delays messages and loses none: Temporal retries until Slack answers. A 429
becomes an `ApplicationError` whose `next_retry_delay` is Slack's `Retry-After`, so the
retry waits exactly as long as Slack asks; a channel busy with the bot's own posts for
more than a second does the same (a benign failure, logged at debug level), so no
activity sleeps in a worker slot.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from slack_sdk.errors import SlackApiError
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from bot.clients import web_client
from bot.links import Links
from bot.message_store import SlackMessageStore
from bot.messages import Rendered
from bot.pacing import Busy, Pacer
from bot.publisher import CaseMessageMissing, Publisher, SlackPost, SummaryRenderer
from bot.settings import slack_settings
from soar.approvals.models import ApprovalRequest
from soar.notifications.models import (
    CaseMessageRequest,
    EscalationNotice,
    PersonNotice,
    TimelineReplyRequest,
)
from soar.reports.kinds import ReportFormat, ReportKind
from soar.reports.service import ReportConfigError, render_case_report
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
log = logging.getLogger(__name__)
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


class SlackChannel:
    """The Slack channel (a :class:`~soar.notifications.activities.NotificationChannel`)
    over one publisher."""

    name = "Slack"

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> SlackChannel | None:
        """The channel posting with the bot token; none without one."""
        if settings.slack_bot_token is None:
            return None
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
            summary=escalation_summary(settings, store),
            ignore_for_similarity=settings.correlation.ignore_for_similarity,
        )
        return cls(publisher)

    async def case_message(self, request: CaseMessageRequest) -> SlackPost:
        """Post the case's message in the channel for its severity, or update it in place
        (coalescing concurrent updates of one case)."""
        return await self._run(lambda publisher: publisher.sync_case(request))

    async def timeline_reply(self, request: TimelineReplyRequest) -> SlackPost:
        """Post new timeline entries as one reply in the case message's thread (retried
        until the case message exists)."""
        return await self._run(lambda publisher: publisher.reply(request))

    async def approval_request(self, approval: ApprovalRequest) -> SlackPost:
        """Post an approval request with its Approve and Deny buttons (once)."""
        return await self._run(lambda publisher: publisher.sync_approval(approval))

    async def approval_update(self, approval: ApprovalRequest) -> SlackPost:
        """Re-render an approval request as it stands now: progress, decided, expired."""
        return await self._run(lambda publisher: publisher.sync_approval(approval))

    async def escalation(self, notice: EscalationNotice) -> SlackPost:
        """Announce an escalation in the escalation channel (once per escalation)."""
        return await self._run(lambda publisher: publisher.notify_escalation(notice))

    async def person(self, notice: PersonNotice) -> SlackPost:
        """Tell a person (a direct message) or a channel what a playbook did (once)."""
        return await self._run(lambda publisher: publisher.notify_person(notice))

    async def _run(self, call: Callable[[Publisher], Awaitable[SlackPost]]) -> SlackPost:
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


def escalation_summary(settings: Settings, store: Store) -> SummaryRenderer:
    """The case's escalation summary in Block Kit, for the thread of a level's notice; a
    broken template is logged and leaves the notice alone (retrying cannot mend it)."""

    async def render(case_id: str) -> Rendered | None:
        try:
            report = await render_case_report(
                store, case_id, ReportKind.ESCALATION, ReportFormat.SLACK, settings
            )
        except ReportConfigError as error:
            log.warning("no escalation summary for %s: %s", case_id, error.message)
            return None
        return Rendered(report.text, report.blocks or [])

    return render

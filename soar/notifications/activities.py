"""The `notify.*` activities: each notification, handed to every configured channel.

A channel (Slack in `bot/`, and whatever comes next) implements
:class:`NotificationChannel`; the worker builds one :class:`NotificationActivities`
over the channels it has. Every channel method must be idempotent — the notification's
id, or the case's and approval's, says what is already shown — because a failure of
one channel retries the activity, and with it the others, which then change nothing.
Each channel gets its turn before a failure is raised, so a broken channel never keeps
another one quiet. A channel signals how long to wait by raising the error its runtime
retries on (Slack raises Temporal's `ApplicationError` with Slack's `Retry-After`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from temporalio import activity

from soar.approvals.models import ApprovalRequest
from soar.notifications.models import (
    APPROVAL_REQUEST,
    APPROVAL_UPDATE,
    CASE_MESSAGE,
    ESCALATION,
    PERSON,
    SLACK_ERA_NAMES,
    TIMELINE_REPLY,
    CaseMessageRequest,
    Delivery,
    EscalationNotice,
    PersonNotice,
    TimelineReplyRequest,
)


class NotificationChannel(Protocol):
    """Somewhere people are told: what each notification becomes there."""

    name: str
    """How the timeline names the channel ("Slack")."""

    async def case_message(self, request: CaseMessageRequest) -> Delivery:
        """Show the case as it is now (first post, or an update of the one shown)."""
        ...

    async def timeline_reply(self, request: TimelineReplyRequest) -> Delivery:
        """Show new timeline entries beside the case (a thread reply in Slack)."""
        ...

    async def approval_request(self, approval: ApprovalRequest) -> Delivery:
        """Ask the deciders, with a way to approve or deny."""
        ...

    async def approval_update(self, approval: ApprovalRequest) -> Delivery:
        """Show an approval request as it stands now: progress, decided, expired."""
        ...

    async def escalation(self, notice: EscalationNotice) -> Delivery:
        """Announce an escalation where escalations are heard."""
        ...

    async def person(self, notice: PersonNotice) -> Delivery:
        """Tell one person (or a room) what a playbook did."""
        ...


class NotificationActivities:
    """The `notify.*` activities over the configured channels (none: every call is a
    no-op, and the workflows are told not to queue anything)."""

    def __init__(self, channels: Sequence[NotificationChannel]) -> None:
        self.channels = list(channels)

    @property
    def names(self) -> list[str]:
        """The channels' names, for the workflow inputs (empty: nothing is notified)."""
        return [channel.name for channel in self.channels]

    def all(self) -> list[Callable[..., Any]]:
        """Every notification activity, under today's names and the Slack-era ones."""
        today: list[Callable[..., Any]] = [
            self.case_message,
            self.timeline_reply,
            self.approval_request,
            self.approval_update,
            self.escalation,
            self.person,
        ]
        slack_era: list[Callable[..., Any]] = [
            self.slack_era_case_message,
            self.slack_era_timeline_reply,
            self.slack_era_approval_request,
            self.slack_era_approval_update,
            self.slack_era_escalation,
            self.slack_era_person,
        ]
        return [*today, *slack_era]

    @activity.defn(name=CASE_MESSAGE)
    async def case_message(self, request: CaseMessageRequest) -> list[Delivery]:
        """Show the case as it is now, in every channel."""
        return await self._each(lambda channel: channel.case_message(request))

    @activity.defn(name=TIMELINE_REPLY)
    async def timeline_reply(self, request: TimelineReplyRequest) -> list[Delivery]:
        """Show new timeline entries of a case, in every channel."""
        return await self._each(lambda channel: channel.timeline_reply(request))

    @activity.defn(name=APPROVAL_REQUEST)
    async def approval_request(self, approval: ApprovalRequest) -> list[Delivery]:
        """Ask for a decision, in every channel."""
        return await self._each(lambda channel: channel.approval_request(approval))

    @activity.defn(name=APPROVAL_UPDATE)
    async def approval_update(self, approval: ApprovalRequest) -> list[Delivery]:
        """Show where an approval request stands, in every channel."""
        return await self._each(lambda channel: channel.approval_update(approval))

    @activity.defn(name=ESCALATION)
    async def escalation(self, notice: EscalationNotice) -> list[Delivery]:
        """Announce an escalation, in every channel."""
        return await self._each(lambda channel: channel.escalation(notice))

    @activity.defn(name=PERSON)
    async def person(self, notice: PersonNotice) -> list[Delivery]:
        """Tell someone what a playbook did, in every channel."""
        return await self._each(lambda channel: channel.person(notice))

    @activity.defn(name=SLACK_ERA_NAMES[CASE_MESSAGE])
    async def slack_era_case_message(self, request: CaseMessageRequest) -> list[Delivery]:
        """`notify.case_message` under its Slack-era name."""
        return await self.case_message(request)

    @activity.defn(name=SLACK_ERA_NAMES[TIMELINE_REPLY])
    async def slack_era_timeline_reply(self, request: TimelineReplyRequest) -> list[Delivery]:
        """`notify.timeline_reply` under its Slack-era name."""
        return await self.timeline_reply(request)

    @activity.defn(name=SLACK_ERA_NAMES[APPROVAL_REQUEST])
    async def slack_era_approval_request(self, approval: ApprovalRequest) -> list[Delivery]:
        """`notify.approval_request` under its Slack-era name."""
        return await self.approval_request(approval)

    @activity.defn(name=SLACK_ERA_NAMES[APPROVAL_UPDATE])
    async def slack_era_approval_update(self, approval: ApprovalRequest) -> list[Delivery]:
        """`notify.approval_update` under its Slack-era name."""
        return await self.approval_update(approval)

    @activity.defn(name=SLACK_ERA_NAMES[ESCALATION])
    async def slack_era_escalation(self, notice: EscalationNotice) -> list[Delivery]:
        """`notify.escalation` under its Slack-era name."""
        return await self.escalation(notice)

    @activity.defn(name=SLACK_ERA_NAMES[PERSON])
    async def slack_era_person(self, notice: PersonNotice) -> list[Delivery]:
        """`notify.person` under its Slack-era name."""
        return await self.person(notice)

    async def _each(
        self, call: Callable[[NotificationChannel], Awaitable[Delivery]]
    ) -> list[Delivery]:
        deliveries: list[Delivery] = []
        failure: BaseException | None = None
        for channel in self.channels:
            try:
                deliveries.append(await call(channel))
            except Exception as error:
                failure = failure or error
                activity.logger.warning("%s could not deliver: %s", channel.name, error)
        if failure is not None:
            raise failure
        return deliveries

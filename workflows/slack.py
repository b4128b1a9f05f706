"""Slack posts from workflow code, without making the workflow wait for Slack.

A :class:`SlackOutbox` queues what a workflow wants shown in Slack (its case message,
timeline replies, approval messages, escalation notices) and sends it, in order, through
the Slack activities from a task of its own: a slow or unreachable Slack delays the
messages and loses none, and never holds up correlation, approvals or containment.
Queued changes coalesce — a newer snapshot of a case replaces the one still waiting,
consecutive timeline entries become one reply — so an alert storm costs a few calls.
A playbook drains its outbox before it ends; a case, which must stop taking commands
the moment it ends, hands what is still queued to a :class:`SlackDeliveryWorkflow` of its
own; both carry it over continue-as-new.

Used only when Slack is configured (the `slack` flag of the workflow's input), so a
product without Slack records no Slack activities in its histories.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from soar.approvals.models import ApprovalRequest
    from soar.cases.models import TimelineEvent
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

SLACK_TIMEOUT = timedelta(seconds=30)
SLACK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
"""No attempt limit: Slack being down for an hour delays messages, and loses none."""
MAX_EVENTS_PER_REPLY = 20

SlackKind = Literal["case", "reply", "approval", "escalation", "person"]


class SlackItem(BaseModel):
    """One queued post: exactly the field that matches `kind` is set."""

    kind: SlackKind
    case: CaseMessageRequest | None = None
    reply: TimelineReplyRequest | None = None
    approval: ApprovalRequest | None = None
    approval_is_new: bool = False
    escalation: EscalationNotice | None = None
    person: PersonNotice | None = None


class _Lane:
    """One queue of posts, sent in order by a task of its own."""

    def __init__(self) -> None:
        self.queue: list[SlackItem] = []
        self.in_flight: list[SlackItem] = []
        self.sender: asyncio.Task[None] | None = None

    def queued(self) -> list[SlackItem]:
        return [*self.in_flight, *self.queue]

    def wake(self) -> None:
        if self.sender is None:
            self.sender = asyncio.create_task(self._send_all())

    async def _send_all(self) -> None:
        try:
            while self.queue:
                item = self.queue.pop(0)
                self.in_flight = [item]
                await _send(item)
                self.in_flight = []
        finally:
            self.sender = None


class SlackOutbox:
    """The Slack posts of one workflow run; see the module docstring.

    Two lanes, each in order: the case's thread (its message and the timeline replies,
    which Slack paces at about one post a second per channel) and the posts people act
    on (approval requests, escalations, direct notices), so a busy thread never holds
    up a request for a decision.
    """

    def __init__(self, enabled: bool, queued: list[SlackItem] | None = None) -> None:
        self.enabled = enabled
        self._thread = _Lane()
        self._urgent = _Lane()
        self._hand_offs = 0
        for item in queued or []:
            self._lane(item).queue.append(item)
        for lane in (self._thread, self._urgent):
            if lane.queue:
                lane.wake()

    def case_message(self, request: CaseMessageRequest) -> None:
        """Show the case as it is now; replaces a snapshot of it still waiting."""
        queue = self._thread.queue
        for index, item in enumerate(queue):
            if item.case is not None:
                if request.alert is None and item.case.alert is not None:
                    request = request.model_copy(
                        update={"alert": item.case.alert, "triage": item.case.triage}
                    )
                queue[index] = SlackItem(kind="case", case=request)
                return
        self._push(SlackItem(kind="case", case=request))

    def replies(self, case_id: str, events: list[TimelineEvent]) -> None:
        """Post timeline entries in the case's thread; joins a reply still waiting."""
        if not events:
            return
        queue = self._thread.queue
        last = queue[-1] if queue else None
        if (
            last is not None
            and last.reply is not None
            and last.reply.case_id == case_id
            and len(last.reply.events) + len(events) <= MAX_EVENTS_PER_REPLY
        ):
            last.reply.events.extend(events)
            return
        self._push(
            SlackItem(kind="reply", reply=TimelineReplyRequest(case_id=case_id, events=events))
        )

    def approval(self, request: ApprovalRequest, *, new: bool) -> None:
        """Post an approval request (`new`), or re-render it as it stands now."""
        queue = self._urgent.queue
        for index, item in enumerate(queue):
            if item.approval is not None and item.approval.id == request.id:
                queue[index] = SlackItem(
                    kind="approval", approval=request, approval_is_new=item.approval_is_new
                )
                return
        self._push(SlackItem(kind="approval", approval=request, approval_is_new=new))

    def escalation(self, notice: EscalationNotice) -> None:
        """Announce an escalation in the escalation channel."""
        self._push(SlackItem(kind="escalation", escalation=notice))

    def person(self, notice: PersonNotice) -> None:
        """Tell someone directly (a direct message, or a post in a channel)."""
        self._push(SlackItem(kind="person", person=notice))

    @property
    def pending(self) -> bool:
        """Whether anything is queued or in flight."""
        return bool(self.queued())

    def queued(self) -> list[SlackItem]:
        """What is not sent yet, to carry over continue-as-new (the post in flight is
        sent again by the next run: every Slack activity is idempotent)."""
        return [*self._thread.queued(), *self._urgent.queued()]

    async def drain(self) -> None:
        """Wait until everything queued is sent."""
        await workflow.wait_condition(
            lambda: self._thread.sender is None and self._urgent.sender is None
        )

    async def hand_off(self) -> None:
        """Leave what is not sent yet to a delivery workflow, so this one can end now.

        The posts in flight go too (their activities may not finish before this
        workflow does); should both send one, the second finds it shown and changes
        nothing."""
        queued = self.queued()
        if not queued:
            return
        for lane in (self._thread, self._urgent):
            lane.queue, lane.in_flight = [], []
        self._hand_offs += 1
        info = workflow.info()
        await workflow.start_child_workflow(
            SlackDeliveryWorkflow.run,
            queued,
            id=f"{info.workflow_id}/slack/{info.run_id}/{self._hand_offs}",
            parent_close_policy=ParentClosePolicy.ABANDON,
        )

    def _lane(self, item: SlackItem) -> _Lane:
        return self._thread if item.kind in ("case", "reply") else self._urgent

    def _push(self, item: SlackItem) -> None:
        if not self.enabled:
            return
        lane = self._lane(item)
        lane.queue.append(item)
        lane.wake()


async def _send(item: SlackItem) -> None:
    name, argument = _activity_call(item)
    try:
        await workflow.execute_activity(
            name,
            argument,
            result_type=SlackPost,
            start_to_close_timeout=SLACK_TIMEOUT,
            retry_policy=SLACK_RETRY,
        )
    except ActivityError as error:
        workflow.logger.warning("Slack post %s gave up: %s", name, error.cause or error)


def _activity_call(item: SlackItem) -> tuple[str, BaseModel]:
    """The Slack activity and its argument for one queued post."""
    if item.case is not None:
        return POST_CASE_MESSAGE, item.case
    if item.reply is not None:
        return POST_TIMELINE_REPLY, item.reply
    if item.approval is not None:
        name = POST_APPROVAL_MESSAGE if item.approval_is_new else UPDATE_APPROVAL_MESSAGE
        return name, item.approval
    if item.escalation is not None:
        return NOTIFY_ESCALATION, item.escalation
    if item.person is not None:
        return NOTIFY_PERSON, item.person
    raise ValueError(f"empty Slack item of kind {item.kind}")


@workflow.defn(name="SlackDelivery")
class SlackDeliveryWorkflow:
    """Sends Slack posts a workflow that has ended left behind."""

    @workflow.run
    async def run(self, items: list[SlackItem]) -> None:
        await SlackOutbox(True, items).drain()

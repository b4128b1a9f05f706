"""Notifications from workflow code, without making the workflow wait for any channel.

An :class:`Outbox` queues what a workflow wants people to see (its case message,
timeline replies, approval requests, escalation and person notices) and sends it, in
order, through the `notify.*` activities from a task of its own: a slow or unreachable
channel delays the notifications and loses none, and never holds up correlation,
approvals or containment. Queued changes coalesce — a newer snapshot of a case replaces
the one still waiting, consecutive timeline entries become one reply — so an alert storm
costs a few calls. A playbook drains its outbox before it ends; a case, which must stop
taking commands the moment it ends, hands what is still queued to a
:class:`NotificationDeliveryWorkflow` of its own; both carry it over continue-as-new.

Used only when a channel is configured (the `channels` of the workflow's input), so a
product without one records no notification activities in its histories. Runs that
began when Slack was the only channel call the activities by their Slack-era names and
hand off to `SlackDelivery`; the `NEUTRAL_NOTIFICATIONS` patch tells them apart.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from soar.approvals.models import ApprovalRequest
    from soar.cases.models import TimelineEvent
    from soar.notifications.models import (
        APPROVAL_REQUEST,
        APPROVAL_UPDATE,
        CASE_MESSAGE,
        ESCALATION,
        PERSON,
        SLACK_ERA_NAMES,
        TIMELINE_REPLY,
        CaseMessageRequest,
        EscalationNotice,
        Notification,
        PersonNotice,
        TimelineReplyRequest,
    )

NEUTRAL_NOTIFICATIONS = "notifications-neutral"
"""The patch that renamed the `slack.*` activities `notify.*` and `SlackDelivery`
`NotificationDelivery`."""
NOTIFY_TIMEOUT = timedelta(seconds=30)
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
"""No attempt limit: a channel being down for an hour delays messages, and loses none."""
MAX_EVENTS_PER_REPLY = 20


class _Lane:
    """One queue of notifications, sent in order by a task of its own."""

    def __init__(self) -> None:
        self.queue: list[Notification] = []
        self.in_flight: list[Notification] = []
        self.sender: asyncio.Task[None] | None = None

    def queued(self) -> list[Notification]:
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


class Outbox:
    """The notifications of one workflow run; see the module docstring.

    Two lanes, each in order: the case's thread (its message and the timeline replies,
    which Slack paces at about one post a second per channel) and what people act on
    (approval requests, escalations, direct notices), so a busy thread never holds up a
    request for a decision.
    """

    def __init__(self, channels: list[str], queued: list[Notification] | None = None) -> None:
        """`channels` names the channels that will show what is queued from now on (none:
        nothing is); `queued` is sent in any case (carried over, or handed off)."""
        self.channels = channels
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
                queue[index] = Notification(kind="case", case=request)
                return
        self._push(Notification(kind="case", case=request))

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
            Notification(kind="reply", reply=TimelineReplyRequest(case_id=case_id, events=events))
        )

    def approval(self, request: ApprovalRequest, *, new: bool) -> None:
        """Post an approval request (`new`), or re-render it as it stands now."""
        queue = self._urgent.queue
        for index, item in enumerate(queue):
            if item.approval is not None and item.approval.id == request.id:
                queue[index] = Notification(
                    kind="approval", approval=request, approval_is_new=item.approval_is_new
                )
                return
        self._push(Notification(kind="approval", approval=request, approval_is_new=new))

    def escalation(self, notice: EscalationNotice) -> None:
        """Announce an escalation in the escalation channel."""
        self._push(Notification(kind="escalation", escalation=notice))

    def person(self, notice: PersonNotice) -> None:
        """Tell someone directly (a direct message, or a post in a channel)."""
        self._push(Notification(kind="person", person=notice))

    @property
    def pending(self) -> bool:
        """Whether anything is queued or in flight."""
        return bool(self.queued())

    def queued(self) -> list[Notification]:
        """What is not sent yet, to carry over continue-as-new (the post in flight is
        sent again by the next run: every notification activity is idempotent)."""
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
        neutral = workflow.patched(NEUTRAL_NOTIFICATIONS)
        await workflow.start_child_workflow(
            NotificationDeliveryWorkflow.run if neutral else SlackDeliveryWorkflow.run,
            queued,
            id=f"{info.workflow_id}/{'notify' if neutral else 'slack'}/{info.run_id}"
            f"/{self._hand_offs}",
            parent_close_policy=ParentClosePolicy.ABANDON,
        )

    def _lane(self, item: Notification) -> _Lane:
        return self._thread if item.kind in ("case", "reply") else self._urgent

    def _push(self, item: Notification) -> None:
        if not self.channels:
            return
        lane = self._lane(item)
        lane.queue.append(item)
        lane.wake()


async def _send(item: Notification) -> None:
    name, argument = _activity_call(item)
    if not workflow.patched(NEUTRAL_NOTIFICATIONS):
        name = SLACK_ERA_NAMES[name]
    try:
        await workflow.execute_activity(
            name, argument, start_to_close_timeout=NOTIFY_TIMEOUT, retry_policy=NOTIFY_RETRY
        )
    except ActivityError as error:
        workflow.logger.warning("Notification %s gave up: %s", name, error.cause or error)


def _activity_call(
    item: Notification,
) -> tuple[
    str,
    CaseMessageRequest | TimelineReplyRequest | ApprovalRequest | EscalationNotice | PersonNotice,
]:
    """The notification activity and its argument for one queued item."""
    if item.case is not None:
        return CASE_MESSAGE, item.case
    if item.reply is not None:
        return TIMELINE_REPLY, item.reply
    if item.approval is not None:
        return (APPROVAL_REQUEST if item.approval_is_new else APPROVAL_UPDATE), item.approval
    if item.escalation is not None:
        return ESCALATION, item.escalation
    if item.person is not None:
        return PERSON, item.person
    raise ValueError(f"empty notification of kind {item.kind}")


@workflow.defn(name="NotificationDelivery")
class NotificationDeliveryWorkflow:
    """Sends the notifications a workflow that has ended left behind."""

    @workflow.run
    async def run(self, items: list[Notification]) -> None:
        await Outbox([], items).drain()


@workflow.defn(name="SlackDelivery")
class SlackDeliveryWorkflow:
    """:class:`NotificationDeliveryWorkflow` under its Slack-era name, for hand-offs of
    runs that began before the rename."""

    @workflow.run
    async def run(self, items: list[Notification]) -> None:
        await Outbox([], items).drain()

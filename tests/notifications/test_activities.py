"""The `notify.*` activities hand each notification to every channel: all of them get
their turn even when one fails, the failure is raised after (so Temporal retries, and
the channels that already showed it change nothing), and the Slack-era names do the
same work."""

from __future__ import annotations

import pytest
from temporalio import activity

from soar.approvals.models import ApprovalRequest
from soar.notifications.activities import NotificationActivities
from soar.notifications.models import (
    CaseMessageRequest,
    Delivery,
    EscalationNotice,
    PersonNotice,
    TimelineReplyRequest,
)
from tests.bot.support import approval, case


class ChannelDown(Exception):
    """What a channel that cannot be reached raises."""


class Channel:
    """A channel that remembers what it was asked to show, and can be down."""

    def __init__(self, name: str, *, down: bool = False) -> None:
        self.name = name
        self.down = down
        self.shown: list[tuple[str, str]] = []

    async def _show(self, kind: str, key: str) -> Delivery:
        if self.down:
            raise ChannelDown(f"{self.name} is down")
        self.shown.append((kind, key))
        return Delivery(via=self.name, outcome="posted")

    async def case_message(self, request: CaseMessageRequest) -> Delivery:
        return await self._show("case", request.case.id)

    async def timeline_reply(self, request: TimelineReplyRequest) -> Delivery:
        return await self._show("reply", request.case_id)

    async def approval_request(self, approval: ApprovalRequest) -> Delivery:
        return await self._show("approval", approval.id)

    async def approval_update(self, approval: ApprovalRequest) -> Delivery:
        return await self._show("approval update", approval.id)

    async def escalation(self, notice: EscalationNotice) -> Delivery:
        return await self._show("escalation", notice.id)

    async def person(self, notice: PersonNotice) -> Delivery:
        return await self._show("person", notice.id)


async def test_every_channel_shows_each_notification() -> None:
    slack, mail = Channel("Slack"), Channel("E-mail")
    notify = NotificationActivities([slack, mail])
    snapshot = case()
    deliveries = await notify.case_message(CaseMessageRequest(case=snapshot))
    assert [(d.via, d.outcome) for d in deliveries] == [("Slack", "posted"), ("E-mail", "posted")]
    request = approval()
    await notify.approval_request(request)
    await notify.slack_era_approval_update(request)
    assert (
        slack.shown
        == mail.shown
        == [
            ("case", snapshot.id),
            ("approval", request.id),
            ("approval update", request.id),
        ]
    )
    assert notify.names == ["Slack", "E-mail"]


async def test_a_channel_that_is_down_keeps_no_other_quiet_and_the_call_fails() -> None:
    down, mail = Channel("Slack", down=True), Channel("E-mail")
    notify = NotificationActivities([down, mail])
    notice = EscalationNotice(id="cmd-7", case_id="case-x", actor="alice", reason="why")
    with pytest.raises(ChannelDown, match="Slack is down"):
        await notify.escalation(notice)
    assert mail.shown == [("escalation", "cmd-7")]


async def test_without_channels_nothing_is_shown_and_nothing_fails() -> None:
    notify = NotificationActivities([])
    assert notify.names == []
    assert await notify.person(PersonNotice(id="e-1", case_id="case-x", to="bob", text="hi")) == []


def test_each_activity_answers_to_both_of_its_names() -> None:
    """Runs that began when Slack was the only channel call the Slack-era names."""
    names = {
        activity._Definition.must_from_callable(f).name for f in NotificationActivities([]).all()
    }
    assert names == {
        "notify.case_message",
        "notify.timeline_reply",
        "notify.approval_request",
        "notify.approval_update",
        "notify.escalation",
        "notify.person",
        "slack.post_case_message",
        "slack.post_timeline_reply",
        "slack.post_approval_message",
        "slack.update_approval_message",
        "slack.notify_escalation",
        "slack.notify_person",
    }

"""The Slack channel against the fake Slack: one message per case, updated in place and
coalesced in a storm; thread replies once; Slack's 429 turned into a Temporal retry after
`Retry-After`; no Slack channel at all when Slack is off."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.worker import Worker

from bot.channel import SlackChannel
from soar.alerts.models import Severity, SeverityInfo, make_alert
from soar.cases.models import Case, TimelineEvent, TimelineKind
from soar.enrichment.models import Triage, Verdict
from soar.notifications.activities import NotificationActivities
from soar.notifications.models import (
    CaseMessageRequest,
    EscalationNotice,
    PersonNotice,
    TimelineReplyRequest,
)
from soar.runtime.worker import notification_channels
from soar.settings import Settings
from soar.store.db import Store
from soar.testing.fake_slack import FakeSlack
from tests.conftest import make_settings

from .slack_workflow import PostCaseMessage
from .support import (
    ALICE,
    CRITICAL_CHANNEL,
    DEFAULT_CHANNEL,
    ESCALATION_CHANNEL,
    HIGH_CHANNEL,
    bot_settings,
    case,
    slack_channel,
    texts,
)


@pytest.fixture
def activities(slack_settings: Settings, store: Store) -> SlackChannel:
    return slack_channel(slack_settings, store)


def later(snapshot: Case, **changes: object) -> Case:
    return snapshot.model_copy(
        update={"updated_at": snapshot.updated_at + timedelta(seconds=1), **changes}
    )


def event(case_id: str, kind: str, summary: str) -> TimelineEvent:
    return TimelineEvent(
        id=f"{case_id}:{uuid.uuid4().hex[:6]}",
        case_id=case_id,
        at=datetime.now(UTC),
        kind=kind,
        actor="alice",
        summary=summary,
    )


async def test_case_message_goes_to_the_channel_for_its_severity(
    activities: SlackChannel, fake_slack: FakeSlack
) -> None:
    for severity, channel in (
        (Severity.CRITICAL, CRITICAL_CHANNEL),
        (Severity.HIGH, HIGH_CHANNEL),
        (Severity.LOW, DEFAULT_CHANNEL),
    ):
        post = await activities.case_message(CaseMessageRequest(case=case(severity=severity)))
        assert (post.outcome, post.channel) == ("posted", channel)


async def test_case_message_is_updated_in_place_and_never_goes_back(
    activities: SlackChannel, fake_slack: FakeSlack
) -> None:
    first = case()
    alert = make_alert(
        source="splunk",
        native_key="n1",
        title="t",
        severity=SeverityInfo(level=Severity.HIGH),
        time=datetime.now(UTC),
        link="https://siem.example/n1",
    )
    triage = Triage(alert_id=alert.id, score=80, verdict=Verdict.MALICIOUS, reasons=["on a list"])
    posted = await activities.case_message(
        CaseMessageRequest(case=first, alert=alert, triage=triage)
    )
    second = later(first, alert_count=9, escalated=True)
    updated = await activities.case_message(CaseMessageRequest(case=second))
    assert (updated.outcome, updated.ts) == ("updated", posted.ts)
    stale = await activities.case_message(CaseMessageRequest(case=first))
    assert stale.outcome == "unchanged"

    message = fake_slack.messages[(posted.channel or "", posted.ts or "")]
    shown = texts(message.blocks)
    assert "9 alerts" in shown and "Escalated" in shown
    assert "malicious (80/100)" in shown and "<https://siem.example/n1|SIEM>" in shown
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_an_alert_storm_updates_one_message_a_few_times(
    tmp_path: Path, fake_slack: FakeSlack, store: Store
) -> None:
    settings = bot_settings(tmp_path, fake_slack)
    settings.slack["update_interval_seconds"] = 0.3
    activities = slack_channel(settings, store)
    start = case(alert_count=1)
    await activities.case_message(CaseMessageRequest(case=start))
    snapshots = [
        start.model_copy(
            update={"alert_count": n, "updated_at": start.updated_at + timedelta(seconds=n)}
        )
        for n in range(2, 202)
    ]
    began = time.monotonic()
    for wave in range(4):
        batch = snapshots[wave * 50 : (wave + 1) * 50]
        await asyncio.gather(*(activities.case_message(CaseMessageRequest(case=s)) for s in batch))
    assert time.monotonic() - began < 5
    updates = fake_slack.calls_to("chat.update")
    assert 1 <= len(updates) <= 6
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert "201 alerts" in texts(updates[-1]["blocks"])


async def test_a_deleted_case_message_is_posted_again(
    activities: SlackChannel, fake_slack: FakeSlack
) -> None:
    first = case()
    posted = await activities.case_message(CaseMessageRequest(case=first))
    fake_slack.fail("chat.update", "message_not_found")
    again = await activities.case_message(CaseMessageRequest(case=later(first)))
    assert again.outcome == "posted" and again.ts != posted.ts


async def test_timeline_replies_go_to_the_thread_once(
    activities: SlackChannel, fake_slack: FakeSlack, store: Store
) -> None:
    snapshot = case()
    await store.upsert_case(snapshot)
    events = [
        event(snapshot.id, TimelineKind.ALERT_ATTACHED, "Alert attached"),
        event(snapshot.id, TimelineKind.NOTE, "Called the owner"),
        event(snapshot.id, TimelineKind.ASSIGNED, "Assigned to bob"),
    ]
    request = TimelineReplyRequest(case_id=snapshot.id, events=events)
    with pytest.raises(ApplicationError) as early:
        await activities.timeline_reply(request)
    assert early.value.type == "CaseMessageMissing"
    assert early.value.next_retry_delay == timedelta(seconds=2)

    parent = await activities.case_message(CaseMessageRequest(case=snapshot))
    reply = await activities.timeline_reply(request)
    assert reply.outcome == "posted"
    assert (await activities.timeline_reply(request)).outcome == "unchanged"
    [message] = fake_slack.thread(parent.channel or "", parent.ts or "")
    assert len(message.blocks) == 2
    assert "Called the owner" in texts(message.blocks)
    alone = TimelineReplyRequest(case_id=snapshot.id, events=events[:1])
    assert (await activities.timeline_reply(alone)).outcome == "skipped"


async def test_replies_of_a_case_never_recorded_are_skipped_not_retried(
    activities: SlackChannel, fake_slack: FakeSlack
) -> None:
    """A playbook running on its own (as `/soar block-ip` starts one) has no case in the
    store and so no case message will ever come: waiting for one would hold its Slack
    outbox, and its approval message, forever."""
    alone = f"slack-malicious_ip-{uuid.uuid4().hex[:20]}"
    request = TimelineReplyRequest(
        case_id=alone, events=[event(alone, TimelineKind.NOTE, "Enriched 45.83.64.1")]
    )
    assert (await activities.timeline_reply(request)).outcome == "skipped"
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_rate_limit_becomes_a_retry_after_slacks_delay(
    activities: SlackChannel, fake_slack: FakeSlack
) -> None:
    fake_slack.rate_limit("chat.postMessage", retry_after=7)
    request = CaseMessageRequest(case=case())
    with pytest.raises(ApplicationError) as limited:
        await activities.case_message(request)
    assert limited.value.type == "SlackRateLimited"
    assert limited.value.next_retry_delay == timedelta(seconds=7)
    assert not limited.value.non_retryable
    assert (await activities.case_message(request)).outcome == "posted"


async def test_malformed_messages_are_not_retried(
    activities: SlackChannel, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("chat.postMessage", "invalid_blocks")
    with pytest.raises(ApplicationError) as refused:
        await activities.case_message(CaseMessageRequest(case=case()))
    assert refused.value.non_retryable


async def test_temporal_retries_after_retry_after_and_the_post_lands(
    temporal_client: Client, activities: SlackChannel, fake_slack: FakeSlack
) -> None:
    fake_slack.rate_limit("chat.postMessage", retry_after=1)
    queue = f"bot-slack-{uuid.uuid4().hex[:8]}"
    notify = NotificationActivities([activities])
    async with Worker(
        temporal_client, task_queue=queue, workflows=[PostCaseMessage], activities=notify.all()
    ):
        began = time.monotonic()
        [post] = await temporal_client.execute_workflow(
            PostCaseMessage.run,
            CaseMessageRequest(case=case()),
            id=f"bot-test-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
    assert post.outcome == "posted"
    assert time.monotonic() - began >= 1
    statuses = [c.status for c in fake_slack.calls if c.method == "chat.postMessage"]
    assert statuses == [429, 200]


async def test_escalations_are_announced_once(
    activities: SlackChannel, fake_slack: FakeSlack
) -> None:
    notice = EscalationNotice(id="cmd-1", case_id="case-x", actor="alice", reason="why", to="bob")
    first = await activities.escalation(notice)
    assert (first.outcome, first.channel) == ("posted", ESCALATION_CHANNEL)
    assert (await activities.escalation(notice)).outcome == "unchanged"


async def test_a_person_is_told_directly_once_and_only_when_known(
    activities: SlackChannel, fake_slack: FakeSlack
) -> None:
    text = "Your host ws-1 was isolated <!channel>"
    told = await activities.person(PersonNotice(id="n-1", case_id="case-x", to="alice", text=text))
    assert (told.outcome, told.channel) == ("posted", ALICE)
    [posted] = fake_slack.calls_to("chat.postMessage")
    shown = texts(posted["blocks"])
    assert "isolated &lt;!channel&gt;" in shown and "<!channel>" not in shown
    again = PersonNotice(id="n-1", case_id="case-x", to="alice", text=text)
    assert (await activities.person(again)).outcome == "unchanged"
    channel = PersonNotice(id="n-2", case_id="case-x", to=DEFAULT_CHANNEL, text="for the team")
    assert (await activities.person(channel)).channel == DEFAULT_CHANNEL
    stranger = PersonNotice(id="n-3", case_id="case-x", to="k.lee", text="not on Slack")
    assert (await activities.person(stranger)).outcome == "skipped"
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


async def test_without_a_channel_nothing_is_posted(
    tmp_path: Path, fake_slack: FakeSlack, store: Store
) -> None:
    settings = bot_settings(tmp_path, fake_slack, slack={})
    activities = slack_channel(settings, store)
    snapshot = case()
    assert (await activities.case_message(CaseMessageRequest(case=snapshot))).outcome == ("skipped")
    reply = TimelineReplyRequest(
        case_id=snapshot.id, events=[event(snapshot.id, TimelineKind.NOTE, "n")]
    )
    assert (await activities.timeline_reply(reply)).outcome == "skipped"
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_without_a_bot_token_there_is_no_slack_channel(tmp_path: Path, store: Store) -> None:
    settings = make_settings(tmp_path)
    assert SlackChannel.from_settings(settings, store) is None
    assert notification_channels(settings, store) == []


async def test_a_busy_channel_gives_the_worker_slot_back(
    tmp_path: Path, fake_slack: FakeSlack, store: Store
) -> None:
    settings = bot_settings(tmp_path, fake_slack)
    settings.slack["post_interval_seconds"] = 5
    activities = slack_channel(settings, store)
    assert (await activities.case_message(CaseMessageRequest(case=case()))).outcome == ("posted")
    with pytest.raises(ApplicationError) as busy:
        await activities.case_message(CaseMessageRequest(case=case()))
    assert busy.value.type == "SlackBusy"
    assert busy.value.category is ApplicationErrorCategory.BENIGN
    delay = busy.value.next_retry_delay
    assert delay is not None and timedelta(seconds=4) < delay <= timedelta(seconds=5)


async def test_updates_keep_within_the_workspace_budget(
    tmp_path: Path, fake_slack: FakeSlack, store: Store
) -> None:
    settings = bot_settings(tmp_path, fake_slack)
    settings.slack["updates_per_minute"] = 30
    activities = slack_channel(settings, store)
    snapshot = case()
    await activities.case_message(CaseMessageRequest(case=snapshot))
    with pytest.raises(ApplicationError) as busy:
        await activities.case_message(CaseMessageRequest(case=later(snapshot)))
    assert busy.value.type == "SlackBusy"
    delay = busy.value.next_retry_delay
    assert delay is not None and timedelta(seconds=1) < delay <= timedelta(seconds=2)
    assert fake_slack.calls_to("chat.update") == []

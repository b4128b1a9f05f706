"""The escalation chain on the real Temporal dev server with second-scale policies: the
product's worker (Slack on against the fake Slack Web API, PagerDuty against its
emulator), cases started as correlation starts them, commands through the case service.

No answer climbs every level in order, once; an acknowledgement or a decision halts
it; a worker restarted mid-chain neither repeats nor skips a level; business hours hold
a level until they open; a refused page is one clear entry and the chain goes on.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from soar.alerts.models import (
    Alert,
    Observable,
    ObservableRole,
    ObservableType,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.cases import service
from soar.cases.contract import (
    ATTACH_SIGNAL,
    CASE_QUERY,
    CASE_WORKFLOW,
    AttachAlert,
    CaseInput,
    case_workflow_id,
)
from soar.cases.models import Case, CaseCommand, CaseCommandKind, CaseState, TimelineKind
from soar.enrichment.models import Triage, Verdict
from soar.escalation.models import EscalationSettings
from soar.runtime.worker import build_worker
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from soar.testing.emulators.jira import JiraEmulator
from soar.testing.emulators.pagerduty import PagerDutyEmulator
from soar.testing.fake_slack import FakeSlack
from tests.bot.support import ALICE, BOB, bot_settings, eventually, texts
from tests.conftest import unique

WINDOW_SECONDS = 2
MANAGEMENT = "CMGMT0001"
WITHIN = 30.0
"""A chain that stalled would wait for ever: fail instead."""


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def pagerduty() -> AsyncIterator[PagerDutyEmulator]:
    async with PagerDutyEmulator() as emulator:
        yield emulator


def settings_with(
    tmp_path: Path,
    fake_slack: FakeSlack,
    pagerduty: PagerDutyEmulator,
    levels: list[dict[str, Any]],
    *,
    routing_key: str | None = None,
    tickets: dict[str, Any] | None = None,
    **policy: Any,
) -> Settings:
    escalation = EscalationSettings.model_validate(
        {
            "groups": {"leads": ["alice", "bob"]},
            "policies": {"fast": {"severities": ["critical"], "levels": levels, **policy}},
        }
    )
    return bot_settings(
        tmp_path,
        fake_slack,
        temporal=TemporalSettings(task_queue=f"soar-esc-{unique()}", rpc_timeout_seconds=2.0),
        escalation=escalation,
        paging={
            "oncall": {
                "type": "pagerduty",
                "options": {
                    "base_url": pagerduty.base_url,
                    "routing_key": routing_key or pagerduty.key,
                },
            }
        },
        tickets=tickets or {},
    )


def critical_alert() -> Alert:
    attacker = f"45.97.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    return make_alert(
        source="escalation-test",
        native_key=uuid.uuid4().hex,
        title="Ransomware note written on a file server",
        severity=SeverityInfo(level=Severity.CRITICAL),
        time=datetime.now(UTC),
        observables=[
            Observable(type=ObservableType.IP, value=attacker, role=ObservableRole.SOURCE)
        ],
    )


async def open_case(
    client: Client, store: Store, settings: Settings
) -> tuple[WorkflowHandle[Any, Any], Case]:
    """Record the alert and signal-with-start its case with the policy correlation picks."""
    item = critical_alert()
    await store.upsert_alert(item)
    key = f"ip:{item.observables[0].value}"
    policy = settings.escalation.policy_for(Severity.CRITICAL, item.rule.name or "", item.source)
    assert policy is not None
    handle = await client.start_workflow(
        CASE_WORKFLOW,
        CaseInput(
            correlation_key=key,
            window_seconds=WINDOW_SECONDS,
            channels=["Slack"],
            escalation_policy=policy,
            escalation_members=[settings.escalation.members(level) for level in policy.levels],
        ),
        id=case_workflow_id(key),
        task_queue=settings.temporal.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal=ATTACH_SIGNAL,
        # Triaged as nothing known: no playbook starts, so the case ends on its own.
        start_signal_args=[
            AttachAlert(
                alert=item, triage=Triage(alert_id=item.id, score=0, verdict=Verdict.UNKNOWN)
            )
        ],
        result_type=Case,
    )

    async def live() -> Case | None:
        case: Case | None = await handle.query(CASE_QUERY, result_type=Case)
        return case if case is not None and await store.get_case_detail(case.id) else None

    return handle, await eventually(live, within=WITHIN)


async def entries(store: Store, case_id: str, kind: str) -> list[Any]:
    return [event for event in await store.get_timeline(case_id) if event.kind == kind]


async def ended(handle: WorkflowHandle[Any, Any]) -> Case:
    async with asyncio.timeout(WITHIN):
        result: Case = await handle.result()
        return result


def paged(pagerduty: PagerDutyEmulator, case_id: str) -> Callable[[], Awaitable[object]]:
    async def check() -> object:
        return pagerduty.alert(case_id)

    return check


def posts_to(fake_slack: FakeSlack, channel: str) -> list[Any]:
    return [m for m in fake_slack.messages.values() if m.channel == channel and not m.thread_ts]


async def posted(fake_slack: FakeSlack, channel: str) -> list[Any]:
    """The posts in `channel` once there is one (delivery runs beside the case)."""

    async def found() -> list[Any]:
        return posts_to(fake_slack, channel)

    return await eventually(found, within=WITHIN)


async def test_with_no_answer_each_level_fires_in_order_once_then_the_case_ends(
    temporal_client: Client,
    store: Store,
    tmp_path: Path,
    fake_slack: FakeSlack,
    pagerduty: PagerDutyEmulator,
) -> None:
    settings = settings_with(
        tmp_path,
        fake_slack,
        pagerduty,
        [
            {"name": "on-call", "after": 1, "page": "oncall"},
            {"name": "leads", "after": 1, "group": "leads"},
            {"name": "management", "after": 1, "channel": MANAGEMENT},
        ],
        acknowledge_within=2,
    )
    async with build_worker(temporal_client, settings, store):
        handle, case = await open_case(temporal_client, store, settings)
        closed = await ended(handle)

    levels = await entries(store, case.id, TimelineKind.ESCALATION_LEVEL)
    assert [e.data["level"] for e in levels] == ["on-call", "leads", "management"]
    assert [e.at for e in levels] == sorted(e.at for e in levels)
    assert levels[1].at - levels[0].at >= timedelta(seconds=1)
    assert levels[0].at - closed.created_at >= timedelta(seconds=1)
    [breach] = await entries(store, case.id, TimelineKind.SLA_BREACHED)
    assert breach.data["sla"] == "acknowledge"
    assert closed.escalated and closed.escalation_policy == "fast"
    alert = pagerduty.alert(case.id)
    assert alert is not None and alert.status == "triggered" and pagerduty.alerts_opened == 1
    assert alert.severity == "critical"

    # The group's members by direct message, the management channel once each, and the
    # escalation summary in the notice's thread (delivery runs beside the case).
    async def delivered() -> list[Any]:
        notices = posts_to(fake_slack, MANAGEMENT)
        return [
            fake_slack.thread(MANAGEMENT, n.ts)
            for n in notices
            if fake_slack.thread(MANAGEMENT, n.ts)
        ]

    [[summary]] = await eventually(delivered, within=WITHIN)
    assert len(posts_to(fake_slack, ALICE)) == 1 and len(posts_to(fake_slack, BOB)) == 1
    assert len(posts_to(fake_slack, MANAGEMENT)) == 1
    assert "Ransomware note written on a file server" in texts(summary.blocks)
    assert "Escalation summary" in (summary.text or "")


async def test_an_acknowledgement_halts_the_chain_and_acknowledges_the_page(
    temporal_client: Client,
    store: Store,
    tmp_path: Path,
    fake_slack: FakeSlack,
    pagerduty: PagerDutyEmulator,
) -> None:
    settings = settings_with(
        tmp_path,
        fake_slack,
        pagerduty,
        [
            {"name": "on-call", "after": 1, "page": "oncall"},
            {"name": "management", "after": 3, "channel": MANAGEMENT},
        ],
    )
    async with build_worker(temporal_client, settings, store):
        handle, case = await open_case(temporal_client, store, settings)
        await eventually(paged(pagerduty, case.id), within=WITHIN)
        ack = CaseCommand(id=f"ack-{case.id}", kind=CaseCommandKind.ACKNOWLEDGE, actor="alice")
        await service.send_command(temporal_client, store, case.id, ack)
        closed = await ended(handle)

    assert [e.data["level"] for e in await entries(store, case.id, "escalation_level")] == [
        "on-call"
    ]
    [stopped] = await entries(store, case.id, TimelineKind.ESCALATION_STOPPED)
    assert "acknowledged by alice" in stopped.summary
    assert (closed.acknowledged_by, pagerduty.status_of(case.id)) == ("alice", "acknowledged")
    assert posts_to(fake_slack, MANAGEMENT) == []


async def test_a_decision_halts_the_chain(
    temporal_client: Client,
    store: Store,
    tmp_path: Path,
    fake_slack: FakeSlack,
    pagerduty: PagerDutyEmulator,
) -> None:
    settings = settings_with(
        tmp_path,
        fake_slack,
        pagerduty,
        [
            {"name": "leads", "after": 1, "people": ["alice"]},
            {"name": "management", "after": 4, "channel": MANAGEMENT},
        ],
        decide_within=1,
    )
    async with build_worker(temporal_client, settings, store):
        handle, case = await open_case(temporal_client, store, settings)
        # What a playbook's approval step and its decision send to the case.
        waiting = CaseCommand(
            id=f"wait-{case.id}",
            kind=CaseCommandKind.SET_STATE,
            actor="playbook:malicious_ip",
            state=CaseState.AWAITING_DECISION,
        )
        await service.send_command(temporal_client, store, case.id, waiting)
        await eventually(lambda: entries(store, case.id, TimelineKind.SLA_BREACHED), within=WITHIN)
        decided = waiting.model_copy(
            update={"id": f"decided-{case.id}", "state": CaseState.CONTAINED}
        )
        await service.send_command(temporal_client, store, case.id, decided)
        await ended(handle)

    assert [e.data["level"] for e in await entries(store, case.id, "escalation_level")] == ["leads"]
    [stopped] = await entries(store, case.id, TimelineKind.ESCALATION_STOPPED)
    assert "a decision was taken" in stopped.summary
    assert [b.data["sla"] for b in await entries(store, case.id, "sla_breached")] == ["decide"]
    assert posts_to(fake_slack, MANAGEMENT) == []


async def test_a_worker_restarted_mid_chain_neither_repeats_nor_skips_a_level(
    temporal_client: Client,
    store: Store,
    tmp_path: Path,
    fake_slack: FakeSlack,
    pagerduty: PagerDutyEmulator,
) -> None:
    settings = settings_with(
        tmp_path,
        fake_slack,
        pagerduty,
        [
            {"name": "on-call", "after": 1, "page": "oncall"},
            {"name": "leads", "after": 2, "people": ["bob"]},
            {"name": "management", "after": 1, "channel": MANAGEMENT},
        ],
    )
    async with build_worker(temporal_client, settings, store):
        handle, case = await open_case(temporal_client, store, settings)
        await eventually(paged(pagerduty, case.id), within=WITHIN)
    # The worker is gone while the second level falls due: the server keeps the timer.
    await asyncio.sleep(2.5)
    async with build_worker(temporal_client, settings, store):
        await ended(handle)

    levels = await entries(store, case.id, TimelineKind.ESCALATION_LEVEL)
    assert [e.data["level"] for e in levels] == ["on-call", "leads", "management"]
    assert (pagerduty.alerts_opened, pagerduty.requests) == (1, 1)
    assert len(await posted(fake_slack, BOB)) == 1
    assert len(await posted(fake_slack, MANAGEMENT)) == 1


async def test_business_hours_hold_a_level_until_they_open(
    temporal_client: Client,
    store: Store,
    tmp_path: Path,
    fake_slack: FakeSlack,
    pagerduty: PagerDutyEmulator,
) -> None:
    now = datetime.now(UTC)
    # A fixed-offset zone where it is about noon, so the hours never wrap past midnight.
    offset = 12 - now.hour
    zone = "Etc/GMT" + (f"+{-offset}" if offset < 0 else f"-{offset}" if offset else "")
    opens = now + timedelta(seconds=4)
    local_open = (opens + timedelta(hours=offset)).time().replace(microsecond=0)
    hours = {
        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start": local_open.isoformat(),
        "end": "23:59:59",
        "timezone": zone,
    }
    settings = settings_with(
        tmp_path,
        fake_slack,
        pagerduty,
        [{"name": "day shift", "after": 0, "page": "oncall", "hours": hours}],
    )
    async with build_worker(temporal_client, settings, store):
        handle, case = await open_case(temporal_client, store, settings)
        await ended(handle)

    [level] = await entries(store, case.id, TimelineKind.ESCALATION_LEVEL)
    assert level.at >= opens.replace(microsecond=0)
    assert pagerduty.alerts_opened == 1


async def test_a_refused_page_is_one_clear_entry_and_the_chain_goes_on(
    temporal_client: Client,
    store: Store,
    tmp_path: Path,
    fake_slack: FakeSlack,
    pagerduty: PagerDutyEmulator,
) -> None:
    settings = settings_with(
        tmp_path,
        fake_slack,
        pagerduty,
        [
            {"name": "on-call", "after": 1, "page": "oncall"},
            {"name": "management", "after": 1, "channel": MANAGEMENT},
        ],
        routing_key="0" * 32,
    )
    async with build_worker(temporal_client, settings, store):
        handle, case = await open_case(temporal_client, store, settings)
        await ended(handle)

    first, second = await entries(store, case.id, TimelineKind.ESCALATION_LEVEL)
    assert "page failed" in first.summary and "0" * 32 not in first.summary
    assert second.data["level"] == "management"
    assert pagerduty.alerts_opened == 0 and pagerduty.requests == 1
    assert len(await posted(fake_slack, MANAGEMENT)) == 1


async def test_a_ticket_survives_a_crash_between_create_and_answer_and_is_opened_once(
    temporal_client: Client,
    store: Store,
    tmp_path: Path,
    fake_slack: FakeSlack,
    pagerduty: PagerDutyEmulator,
) -> None:
    async with JiraEmulator() as jira:
        jira_settings = {
            "type": "jira",
            "options": {
                "base_url": jira.base_url,
                "email": jira.email,
                "api_token": jira.token,
                "project": "SEC",
            },
        }
        settings = settings_with(
            tmp_path,
            fake_slack,
            pagerduty,
            [{"name": "ticket", "after": 1, "when": "not_closed", "ticket": "jira"}],
            tickets={"jira": jira_settings},
        )
        jira.hold("POST", "/rest/api/3/issue")
        async with build_worker(temporal_client, settings, store):
            handle, case = await open_case(temporal_client, store, settings)
            async with asyncio.timeout(WITHIN):
                await jira.holding.wait()  # created at Jira; the answer never comes back
        jira.release()
        async with build_worker(temporal_client, settings, store):
            [opened] = await eventually(
                lambda: entries(store, case.id, TimelineKind.TICKET_OPENED), within=WITHIN
            )
            by_hand = CaseCommand(
                id=f"ticket-{case.id}",
                kind=CaseCommandKind.TICKET,
                actor="alice",
                data={"system": "jira"},
            )
            await service.send_command(temporal_client, store, case.id, by_hand)
            closing = CaseCommand(
                id=f"close-{case.id}",
                kind=CaseCommandKind.CLOSE,
                actor="alice",
                resolution="true_positive",
            )
            await service.send_command(temporal_client, store, case.id, closing)
            await ended(handle)

        tickets = await entries(store, case.id, TimelineKind.TICKET_OPENED)
        [issue] = jira.issues.values()
        assert jira.tickets_created == 1
        assert [t.data["key"] for t in tickets] == [issue.key, issue.key]
        assert "already open" in opened.summary and tickets[1].actor == "alice"
        assert opened.data["url"].endswith(f"/browse/{issue.key}")
        assert any("closed as true_positive" in c for c in jira.comments_on(issue.key))
        detail = await store.get_case_detail(case.id)
        assert detail is not None
        assert [(t.system, t.vendor, t.key, t.url) for t in detail.tickets] == [
            ("jira", "Jira Cloud", issue.key, opened.data["url"])
        ]


async def test_a_manual_escalation_to_a_level_fires_it_now_through_the_same_path(
    temporal_client: Client,
    store: Store,
    tmp_path: Path,
    fake_slack: FakeSlack,
    pagerduty: PagerDutyEmulator,
) -> None:
    settings = settings_with(
        tmp_path,
        fake_slack,
        pagerduty,
        [
            {"name": "on-call", "after": 600, "page": "oncall"},
            {"name": "management", "after": 600, "channel": MANAGEMENT},
        ],
    )
    async with build_worker(temporal_client, settings, store):
        handle, case = await open_case(temporal_client, store, settings)
        escalate = CaseCommand(
            id=f"esc-{case.id}",
            kind=CaseCommandKind.ESCALATE,
            actor="alice",
            text="CFO's laptop",
            data={"to": "management"},
        )
        await service.send_command(temporal_client, store, case.id, escalate)
        [level] = await eventually(
            lambda: entries(store, case.id, TimelineKind.ESCALATION_LEVEL), within=WITHIN
        )
        closing = CaseCommand(
            id=f"close-{case.id}", kind=CaseCommandKind.CLOSE, actor="alice", resolution="benign"
        )
        await service.send_command(temporal_client, store, case.id, closing)
        await ended(handle)

    assert (level.data["level"], level.actor, level.reason) == (
        "management",
        "alice",
        "CFO's laptop",
    )
    [notice] = await posted(fake_slack, MANAGEMENT)
    assert "management" in (notice.text or "")
    assert pagerduty.requests == 0  # the on-call level's time never came; closing ended it

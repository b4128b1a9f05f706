"""The ticket activities on the real Temporal dev server, against the Jira emulator over
real HTTP: a step run twice opens one issue; a first attempt that timed out after Jira
created the issue is retried by Temporal and finds it; a rate limit longer than a call
waits in place is a retry after Jira's wait; a refused credential fails the step once,
naming the system; the closing comment lands once; an unknown system is refused."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from integrations.jira import JiraOptions, JiraTicketSystem
from soar.alerts.models import Severity
from soar.testing.emulators.jira import JiraEmulator
from soar.tickets.activities import TicketActivities
from soar.tickets.models import OpenTicket, TicketComment, TicketRef
from soar.tickets.systems import TicketSystemRegistry
from tests.tickets.ticket_steps import CommentTicketStep, OpenSteps, OpenTicketSteps


def jira_options(jira: JiraEmulator, **extra: object) -> JiraOptions:
    settings: dict[str, object] = {
        "base_url": jira.base_url,
        "email": jira.email,
        "api_token": jira.token,
        "project": "SEC",
        "max_wait_seconds": 1,
        "timeout_seconds": 30,
    }
    return JiraOptions.model_validate(settings | extra)


@pytest.fixture
async def jira() -> AsyncIterator[JiraEmulator]:
    emulator = JiraEmulator()
    async with emulator:
        yield emulator


@pytest.fixture
async def queue(temporal_client: Client, jira: JiraEmulator) -> AsyncIterator[str]:
    """A worker of the ticket activities: `jira` as configured, `jira-bad` with a token
    Jira refuses."""
    good = JiraTicketSystem("jira", jira_options(jira))
    bad = JiraTicketSystem("jira-bad", jira_options(jira, api_token="ATATT-wrong"))
    name = f"tickets-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_client,
        task_queue=name,
        workflows=[OpenTicketSteps, CommentTicketStep],
        activities=TicketActivities(TicketSystemRegistry([good, bad])).all(),
    ):
        yield name
    await good.aclose()
    await bad.aclose()


def request(system: str = "jira") -> OpenTicket:
    return OpenTicket(
        system=system,
        case_id=f"case-{uuid.uuid4().hex[:24]}-{uuid.uuid4().hex[:8]}",
        title="Ransomware on ws-01",
        description="Mass file renames; the host is isolated.",
        severity=Severity.CRITICAL,
    )


async def run_open(client: Client, queue: str, steps: OpenSteps) -> list[TicketRef]:
    return await client.execute_workflow(
        OpenTicketSteps.run, steps, id=f"tickets-test-{uuid.uuid4().hex[:8]}", task_queue=queue
    )


async def test_a_step_run_twice_opens_one_issue(
    temporal_client: Client, queue: str, jira: JiraEmulator
) -> None:
    first, second = await run_open(temporal_client, queue, OpenSteps(request=request(), times=2))
    assert first.created and not second.created
    assert first.key == second.key
    assert jira.tickets_created == 1


async def test_an_attempt_timed_out_after_jira_created_the_issue_is_retried_and_finds_it(
    temporal_client: Client, queue: str, jira: JiraEmulator
) -> None:
    jira.hold(*jira.create_call)
    try:
        [ref] = await run_open(
            temporal_client, queue, OpenSteps(request=request(), timeout_seconds=2)
        )
    finally:
        jira.release()
    assert not ref.created
    assert jira.tickets_created == 1
    assert jira.count("POST", "/search/jql") == 2, "the retry asked Jira before creating"


async def test_a_long_rate_limit_is_a_retry_after_jiras_wait(
    temporal_client: Client, queue: str, jira: JiraEmulator
) -> None:
    jira.throttle(1, seconds=2)
    began = time.monotonic()
    [ref] = await run_open(temporal_client, queue, OpenSteps(request=request()))
    assert time.monotonic() - began >= 2
    assert ref.created
    assert [c.status for c in jira.calls][:2] == [429, 200]
    assert jira.tickets_created == 1


async def test_a_refused_credential_fails_the_step_once_naming_the_system(
    temporal_client: Client, queue: str, jira: JiraEmulator
) -> None:
    with pytest.raises(WorkflowFailureError) as failed:
        await run_open(temporal_client, queue, OpenSteps(request=request("jira-bad")))
    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError)
    refused = activity_error.cause
    assert isinstance(refused, ApplicationError)
    assert refused.type == "CredentialsRejected" and refused.non_retryable
    assert refused.message.startswith("jira-bad: credentials rejected: search issues: ")
    assert "ATATT-wrong" not in refused.message
    assert len(jira.calls) == 1, "a refused credential is asked once"
    assert jira.tickets_created == 0


async def test_the_closing_comment_lands_once_even_when_the_step_runs_again(
    temporal_client: Client, queue: str, jira: JiraEmulator
) -> None:
    opening = request()
    [ref] = await run_open(temporal_client, queue, OpenSteps(request=opening))
    comment = TicketComment(
        system="jira",
        key=ref.key,
        case_id=opening.case_id,
        text="Closed: contained.",
    )
    results = [
        await temporal_client.execute_workflow(
            CommentTicketStep.run,
            comment,
            id=f"tickets-comment-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        for _ in range(2)
    ]
    assert [r.added for r in results] == [True, False]
    assert jira.comments_on(ref.key) == ["Closed: contained."]


async def test_an_unknown_system_is_refused_naming_the_configured_ones(
    jira: JiraEmulator,
) -> None:
    system = JiraTicketSystem("jira", jira_options(jira))
    activities = TicketActivities(TicketSystemRegistry([system]))
    try:
        with pytest.raises(ApplicationError) as unknown:
            await activities.open_ticket(request("servicenow"))
    finally:
        await system.aclose()
    assert unknown.value.non_retryable and unknown.value.type == "UnknownTicketSystem"
    assert unknown.value.message == (
        "no ticket system is configured as 'servicenow' (configured: jira)"
    )
    assert jira.calls == []


async def test_the_held_answer_is_let_go_without_harm(jira: JiraEmulator) -> None:
    """What the timed-out first attempt leaves behind: once Jira's answer comes, the
    abandoned call ends and nothing more is created."""
    system = JiraTicketSystem("jira", jira_options(jira))
    activities = TicketActivities(TicketSystemRegistry([system]))
    opening = request()
    jira.hold(*jira.create_call)
    abandoned = asyncio.create_task(activities.open_ticket(opening))
    await asyncio.wait_for(jira.holding.wait(), 10)
    retried = await activities.open_ticket(opening)
    jira.release()
    late = await asyncio.wait_for(abandoned, 10)
    await system.aclose()
    assert (retried.created, late.created, late.key) == (False, True, retried.key)
    assert jira.tickets_created == 1

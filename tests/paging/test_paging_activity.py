"""The paging activity on the real Temporal dev server, against the PagerDuty emulator
over real HTTP: a case's alert triggered twice, acknowledged and resolved is one
alert; a back-off longer than a call waits in place is a retry after it; an unknown
routing key fails the step once, naming the pager; an unknown pager is refused."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from integrations.pagerduty import PagerDutyOptions, PagerDutyPager
from soar.alerts.models import Severity
from soar.paging.activities import PagingActivities
from soar.paging.models import PageAction, PageLink, PageReceipt, PageRequest
from soar.paging.pagers import PagerRegistry
from soar.testing.emulators.pagerduty import PagerDutyEmulator, routing_key
from tests.paging.page_steps import PageSteps


@pytest.fixture
async def pagerduty() -> AsyncIterator[PagerDutyEmulator]:
    emulator = PagerDutyEmulator()
    async with emulator:
        yield emulator


@pytest.fixture
async def queue(temporal_client: Client, pagerduty: PagerDutyEmulator) -> AsyncIterator[str]:
    """A worker of the paging activity: `oncall` as configured (a 2 s back-off after a
    429, longer than a call may wait in place), `oncall-bad` with an unknown key."""
    common = {"base_url": pagerduty.base_url, "rate_limit_wait_seconds": 2, "max_wait_seconds": 1}
    good = PagerDutyPager(
        "oncall", PagerDutyOptions.model_validate(common | {"routing_key": pagerduty.key})
    )
    bad = PagerDutyPager(
        "oncall-bad", PagerDutyOptions.model_validate(common | {"routing_key": routing_key()})
    )
    name = f"paging-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_client,
        task_queue=name,
        workflows=[PageSteps],
        activities=PagingActivities(PagerRegistry([good, bad])).all(),
    ):
        yield name
    await good.aclose()
    await bad.aclose()


def page(action: PageAction, case_id: str, pager: str = "oncall") -> PageRequest:
    return PageRequest(
        pager=pager,
        action=action,
        case_id=case_id,
        summary="Case not acknowledged: ransomware on ws-01",
        severity=Severity.CRITICAL,
        links=[PageLink(href="https://soar.example.org/cases/x", text="The case")],
    )


async def run(client: Client, queue: str, pages: list[PageRequest]) -> list[PageReceipt]:
    return await client.execute_workflow(
        PageSteps.run, pages, id=f"paging-test-{uuid.uuid4().hex[:8]}", task_queue=queue
    )


@pytest.fixture
def case_id() -> str:
    return f"case-{uuid.uuid4().hex[:24]}-{uuid.uuid4().hex[:8]}"


async def test_a_case_is_one_alert_through_trigger_acknowledge_and_resolve(
    temporal_client: Client, queue: str, pagerduty: PagerDutyEmulator, case_id: str
) -> None:
    actions = [PageAction.TRIGGER, PageAction.TRIGGER, PageAction.ACKNOWLEDGE, PageAction.RESOLVE]
    receipts = await run(temporal_client, queue, [page(a, case_id) for a in actions])
    assert [r.action for r in receipts] == actions
    assert {r.dedup_key for r in receipts} == {case_id}
    alert = pagerduty.alert(case_id)
    assert alert is not None
    assert (alert.status, alert.triggers, alert.severity) == ("resolved", 2, "critical")
    assert alert.links == [{"href": "https://soar.example.org/cases/x", "text": "The case"}]
    assert pagerduty.alerts_opened == 1


async def test_a_back_off_longer_than_a_call_waits_is_a_retry_after_it(
    temporal_client: Client, queue: str, pagerduty: PagerDutyEmulator, case_id: str
) -> None:
    pagerduty.throttle(1)
    began = time.monotonic()
    await run(temporal_client, queue, [page(PageAction.TRIGGER, case_id)])
    assert time.monotonic() - began >= 2
    assert [c.status for c in pagerduty.calls] == [429, 202]
    assert pagerduty.status_of(case_id) == "triggered"


async def test_an_unknown_routing_key_fails_the_step_once_naming_the_pager(
    temporal_client: Client, queue: str, pagerduty: PagerDutyEmulator, case_id: str
) -> None:
    with pytest.raises(WorkflowFailureError) as failed:
        await run(temporal_client, queue, [page(PageAction.TRIGGER, case_id, "oncall-bad")])
    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError)
    refused = activity_error.cause
    assert isinstance(refused, ApplicationError)
    assert refused.type == "CredentialsRejected" and refused.non_retryable
    assert refused.message.startswith("oncall-bad: credentials rejected: ")
    assert len(pagerduty.calls) == 1
    assert pagerduty.alerts_opened == 0


async def test_an_unknown_pager_is_refused(pagerduty: PagerDutyEmulator, case_id: str) -> None:
    with pytest.raises(ApplicationError) as unknown:
        await PagingActivities(PagerRegistry()).page(page(PageAction.TRIGGER, case_id))
    assert unknown.value.non_retryable and unknown.value.type == "UnknownPager"
    assert unknown.value.message == "no pager is configured as 'oncall' (configured: none)"

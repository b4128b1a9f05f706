"""The product's worker with `[tickets.<name>]` and `[paging.<name>]` configured: its
`tickets.open`, `tickets.comment` and `paging.page` activities reach the configured
Jira and PagerDuty (their emulators) on the real Temporal dev server; a bad option or
an unknown type stops the start with one message naming the setting."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client

from soar.integrations.errors import IntegrationConfigError
from soar.integrations.registry import IntegrationSettings
from soar.paging.models import PageAction, PageRequest
from soar.runtime.integrations import check_integrations, pagers_of, ticket_systems_of
from soar.runtime.worker import build_worker
from soar.settings import Settings, TemporalSettings
from soar.store.db import Store
from soar.testing.emulators.jira import JiraEmulator
from soar.testing.emulators.pagerduty import PagerDutyEmulator
from soar.tickets.models import OpenTicket
from tests.conftest import make_settings
from tests.paging.page_steps import PageSteps
from tests.tickets.ticket_steps import OpenSteps, OpenTicketSteps


@pytest.fixture
async def vendors() -> AsyncIterator[tuple[JiraEmulator, PagerDutyEmulator]]:
    jira, pagerduty = JiraEmulator(), PagerDutyEmulator()
    async with jira, pagerduty:
        yield jira, pagerduty


def configured(tmp_path: Path, jira: JiraEmulator, pagerduty: PagerDutyEmulator) -> Settings:
    return make_settings(
        tmp_path,
        temporal=TemporalSettings(task_queue=f"wired-{uuid.uuid4().hex[:8]}"),
        tickets={
            "jira": IntegrationSettings(
                type="jira",
                options={
                    "base_url": jira.base_url,
                    "email": jira.email,
                    "api_token": jira.token,
                    "project": "SEC",
                },
            )
        },
        paging={
            "oncall": IntegrationSettings(
                type="pagerduty",
                options={"base_url": pagerduty.base_url, "routing_key": pagerduty.key},
            )
        },
    )


async def test_the_worker_opens_tickets_and_pages_through_the_configured_integrations(
    tmp_path: Path,
    temporal_client: Client,
    store: Store,
    vendors: tuple[JiraEmulator, PagerDutyEmulator],
) -> None:
    jira, pagerduty = vendors
    settings = configured(tmp_path, jira, pagerduty)
    assert [s.name for s in ticket_systems_of(settings)] == ["jira"]
    assert [p.name for p in pagers_of(settings)] == ["oncall"]
    case_id = f"case-{uuid.uuid4().hex[:24]}-{uuid.uuid4().hex[:8]}"
    queue = settings.temporal.task_queue
    worker = build_worker(
        temporal_client, settings, store, playbooks=[], extra_workflows=[OpenTicketSteps, PageSteps]
    )
    async with worker:
        [ref] = await temporal_client.execute_workflow(
            OpenTicketSteps.run,
            OpenSteps(request=OpenTicket(system="jira", case_id=case_id, title="Ransomware")),
            id=f"wired-open-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        [receipt] = await temporal_client.execute_workflow(
            PageSteps.run,
            [PageRequest(pager="oncall", action=PageAction.TRIGGER, case_id=case_id, summary="x")],
            id=f"wired-page-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
    assert (ref.system, ref.vendor, ref.created) == ("jira", "Jira Cloud", True)
    assert jira.with_label(f"soar-{case_id}")
    assert (receipt.pager, receipt.dedup_key) == ("oncall", case_id)
    assert pagerduty.status_of(case_id) == "triggered"


@pytest.mark.parametrize(
    ("section", "entry", "says"),
    [
        (
            "tickets",
            IntegrationSettings(type="jira", options={"base_url": "https://a.atlassian.net"}),
            "tickets.desk.options.email: Field required",
        ),
        (
            "paging",
            IntegrationSettings(type="pagerduty", options={"routing_key": "s3cret-but-short"}),
            "paging.desk.options.routing_key: Value error, a routing key is 32 letters",
        ),
        (
            "tickets",
            IntegrationSettings(type="zendesk"),
            "tickets.desk.type: 'zendesk' is not a type any installed integration provides",
        ),
        (
            "paging",
            IntegrationSettings(type="jira", options={}),
            "paging.desk.type: 'jira' is not a type any installed integration provides",
        ),
    ],
)
def test_a_bad_ticket_system_or_pager_stops_the_start_naming_the_setting(
    tmp_path: Path, section: str, entry: IntegrationSettings, says: str
) -> None:
    settings = make_settings(tmp_path, **{section: {"desk": entry}})
    with pytest.raises(IntegrationConfigError) as bad:
        check_integrations(settings)
    assert str(bad.value).startswith(says), str(bad.value)
    assert "s3cret" not in str(bad.value)

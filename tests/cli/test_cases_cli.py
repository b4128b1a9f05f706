"""`soar cases …`, `soar approvals list`, `soar approve|deny` against a real uvicorn server.

The server runs on a free port in the tests' event loop, serving the real app over the
real store and Temporal dev server; each command runs in a thread (it makes blocking
HTTP calls), exactly as a user would run it, with settings from the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import typer
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from typer.testing import Result

from soar.alerts.models import Observable, ObservableType
from soar.api.app import create_app
from soar.api.deps import Services
from soar.approvals.models import (
    DECIDE_UPDATE,
    ApprovalRequest,
    DecisionKind,
    DecisionRequest,
    DecisionResult,
)
from soar.cli import approvals, cases
from tests.conftest import unique
from tests.live_api import run_cli, serving
from tests.store import factories

HOSTILE = "[bold red]x[/]"

cli = typer.Typer()
cli.add_typer(cases.app, name="cases")
cli.add_typer(approvals.app, name="approvals")
cli.command("approve")(approvals.approve)
cli.command("deny")(approvals.deny)


@workflow.defn(name="CliTestApprovalWorkflow")
class Approver:
    """Takes `decide` from anyone but mallory; runs until the test ends."""

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.update(name=DECIDE_UPDATE)
    def decide(self, decision: DecisionRequest) -> DecisionResult:
        state = "approved" if decision.decision is DecisionKind.APPROVE else "denied"
        return DecisionResult(
            approval_id=decision.approval_id,
            state=state,
            approvals=int(state == "approved"),
            quorum=1,
            message=f"{state} by {decision.user}",
        )

    @decide.validator
    def _check(self, decision: DecisionRequest) -> None:
        if decision.user == "mallory":
            raise ValueError(f"mallory may not decide on {decision.approval_id} {HOSTILE}")


@pytest.fixture
async def server_url(services: Services) -> AsyncIterator[str]:
    """The real app on a real socket, served from the tests' event loop."""
    async with serving(create_app(services)) as url:
        yield url


async def run(url: str, *args: str) -> Result:
    """Run a `soar` command the way a user does."""
    return await run_cli(cli, url, *args)


async def seed(services: Services, **case_fields: Any) -> tuple[str, ApprovalRequest]:
    """A case whose every string a sender could choose is hostile markup, and an approval."""
    case_id = f"case-{unique()}"
    store = services.store
    observable = Observable(type=ObservableType.HOSTNAME, value=f"web-{HOSTILE}")
    await store.upsert_case(
        factories.case(
            case_id,
            correlation_key=f"host:{case_id}",
            title=f"Case title {HOSTILE}",
            observables=[observable],
            **case_fields,
        )
    )
    await store.upsert_alert(factories.alert(unique(), title=f"Alert title {HOSTILE}"), case_id)
    await store.add_timeline_event(
        factories.event(f"{case_id}:1", case_id, summary=f"Note {HOSTILE}", reason="because")
    )
    request = factories.approval(f"appr-{unique()}", case_id, workflow_id=f"cli-{unique()}")
    await store.upsert_approval(request)
    await store.upsert_action(factories.action(f"act-{unique()}", case_id))
    return case_id, request


async def test_cases_show_renders_every_section_and_prints_markup_literally(
    server_url: str, services: Services
) -> None:
    case_id, request = await seed(services)

    shown = await run(server_url, "cases", "show", case_id)

    assert shown.exit_code == 0, shown.output
    for expected in (
        case_id,
        f"Case title {HOSTILE}",
        f"Alert title {HOSTILE}",
        f"web-{HOSTILE}",
        f"Note {HOSTILE}",
        "because",
        request.id,
        "ipv4_net 203.0.113.7",
        f"host:{case_id}",
    ):
        assert expected in shown.output


async def test_cases_list_filters_and_prints_markup_literally(
    server_url: str, services: Services
) -> None:
    analyst = f"analyst-{unique()}"
    case_id, _ = await seed(services, assignee=analyst)

    listed = await run(server_url, "cases", "list", "--assignee", analyst)
    other = await run(server_url, "cases", "list", "--assignee", analyst, "--state", "closed")

    assert listed.exit_code == 0, listed.output
    assert case_id in listed.output
    assert f"Case title {HOSTILE}" in listed.output
    assert case_id not in other.output


async def test_unknown_case_exits_1_with_the_apis_message(server_url: str) -> None:
    missing = await run(server_url, "cases", "show", f"case-{HOSTILE}")
    assert missing.exit_code == 1
    assert f"no case with id 'case-{HOSTILE}'" in missing.output


async def test_approvals_list_and_decisions_through_the_api(
    server_url: str, services: Services, temporal_client: Client
) -> None:
    _, request = await seed(services)
    queue = f"cli-approvals-{unique()}"
    worker = Worker(
        temporal_client,
        task_queue=queue,
        workflows=[Approver],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    async with worker:
        handle = await temporal_client.start_workflow(
            Approver.run, id=request.workflow_id, task_queue=queue
        )
        listed = await run(server_url, "approvals", "list", "--limit", "500")
        approved = await run(server_url, "approve", request.id, "--as", "alice", "--reason", "ok")
        refused = await run(server_url, "deny", request.id, "--as", "mallory")
        await handle.terminate()
    gone = await run(server_url, "deny", request.id, "--as", "bob")

    assert listed.exit_code == 0, listed.output
    assert request.id in listed.output
    assert approved.exit_code == 0, approved.output
    assert f"{request.id} is approved (1/1 approvals). approved by alice" in approved.output
    assert refused.exit_code == 1
    assert f"mallory may not decide on {request.id} {HOSTILE}" in refused.output
    assert gone.exit_code == 1
    assert "approval is no longer open" in gone.output

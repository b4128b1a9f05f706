"""`/api/cases`: reads from the real SQLite store, commands to a real workflow on the dev server.

The store is seeded directly; the case workflow is stood in for by a tiny workflow
that takes the `command` signal under the case's workflow id, on its own task queue,
so these tests depend on nothing but the API and the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from soar.alerts.models import Severity
from soar.api.deps import Services
from soar.approvals.models import Decision, DecisionKind
from soar.cases.contract import case_workflow_id
from soar.cases.models import CaseCommand, CaseState, Resolution
from soar.containment.models import ActionState
from tests.conftest import API_TOKEN, bearer, unique
from tests.store import factories

OPERATOR = bearer(API_TOKEN)


@workflow.defn(name="ApiTestCaseWorkflow")
class CommandRecorder:
    """Stands in for the case workflow: keeps the commands it is sent."""

    def __init__(self) -> None:
        self.commands: list[CaseCommand] = []

    @workflow.signal
    def command(self, command: CaseCommand) -> None:
        self.commands.append(command)

    @workflow.query
    def received(self) -> list[CaseCommand]:
        return self.commands

    @workflow.run
    async def run(self, stop_after: int) -> None:
        await workflow.wait_condition(lambda: len(self.commands) >= stop_after)


@pytest.fixture
async def task_queue(temporal_client: Client) -> AsyncIterator[str]:
    queue = f"api-cases-{unique()}"
    async with Worker(
        temporal_client,
        task_queue=queue,
        workflows=[CommandRecorder],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield queue


async def seed_case(services: Services, **fields: Any) -> str:
    """A case in the store, with a unique id and correlation key."""
    case_id = f"case-{unique()}"
    defaults: dict[str, Any] = {"correlation_key": f"ip:{case_id}"}
    await services.store.upsert_case(factories.case(case_id, **(defaults | fields)))
    return case_id


async def start_case_workflow(
    client: Client, services: Services, case_id: str, queue: str, stop_after: int
) -> WorkflowHandle[Any, Any]:
    case = await services.store.get_case_detail(case_id)
    assert case is not None
    return await client.start_workflow(
        CommandRecorder.run,
        stop_after,
        id=case_workflow_id(case.correlation_key),
        task_queue=queue,
    )


async def test_list_filters_by_state_severity_and_assignee(
    api: httpx.AsyncClient, services: Services
) -> None:
    analyst = f"analyst-{unique()}"
    triaged = await seed_case(
        services, assignee=analyst, state=CaseState.TRIAGED, severity=Severity.HIGH, alert_count=3
    )
    contained = await seed_case(
        services, assignee=analyst, state=CaseState.CONTAINED, severity=Severity.CRITICAL
    )

    mine = (await api.get("/api/cases", params={"assignee": analyst}, headers=OPERATOR)).json()
    assert {c["id"] for c in mine} == {triaged, contained}
    first = next(c for c in mine if c["id"] == triaged)
    assert first["state"] == "triaged"
    assert first["severity"] == "high"
    assert first["correlation_key"] == f"ip:{triaged}"
    assert first["alert_count"] == 3

    by_state = await api.get(
        "/api/cases", params={"assignee": analyst, "state": "contained"}, headers=OPERATOR
    )
    assert [c["id"] for c in by_state.json()] == [contained]
    by_severity = await api.get(
        "/api/cases", params={"assignee": analyst, "severity": "high"}, headers=OPERATOR
    )
    assert [c["id"] for c in by_severity.json()] == [triaged]
    paged = await api.get(
        "/api/cases", params={"assignee": analyst, "limit": 1, "offset": 1}, headers=OPERATOR
    )
    assert len(paged.json()) == 1
    wrong = await api.get("/api/cases", params={"state": "sleeping"}, headers=OPERATOR)
    assert wrong.status_code == 422


async def test_detail_has_alerts_observables_timeline_approvals_and_actions(
    api: httpx.AsyncClient, services: Services
) -> None:
    case_id = await seed_case(services)
    store = services.store
    alert = factories.alert(unique(), title="Port scan from 203.0.113.7")
    await store.upsert_alert(alert, case_id)
    await store.add_timeline_event(
        factories.event(f"{case_id}:2", case_id, minutes=2, summary="second")
    )
    await store.add_timeline_event(
        factories.event(f"{case_id}:1", case_id, minutes=1, summary="first", reason="why")
    )
    decision = Decision(
        approval_id=f"appr-{case_id}",
        decision=DecisionKind.APPROVE,
        user="alice",
        reason="confirmed scanner",
        at=factories.at(5),
    )
    await store.upsert_approval(
        factories.approval(f"appr-{case_id}", case_id, decisions=[decision])
    )
    await store.upsert_action(
        factories.action(f"act-{case_id}", case_id, state=ActionState.NO_ACTUATOR)
    )

    answer = await api.get(f"/api/cases/{case_id}", headers=OPERATOR)

    assert answer.status_code == 200
    case = answer.json()
    assert case["id"] == case_id
    assert [a["title"] for a in case["alerts"]] == ["Port scan from 203.0.113.7"]
    assert case["alert_ids"] == [alert.id]
    assert {"type": "ip", "value": "203.0.113.7", "role": "source"} in case["observables"]
    assert [(e["summary"], e["reason"]) for e in case["timeline"]] == [
        ("first", "why"),
        ("second", None),
    ]
    [approval] = case["approvals"]
    assert approval["decisions"][0]["user"] == "alice"
    assert approval["decisions"][0]["reason"] == "confirmed scanner"
    [action] = case["actions"]
    assert action["state"] == "no_actuator"
    assert action["command"]["target"]["value"] == "203.0.113.7"


async def test_unknown_case_is_404_and_every_route_needs_the_token(
    api: httpx.AsyncClient, services: Services
) -> None:
    missing = await api.get("/api/cases/case-nope", headers=OPERATOR)
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "no case with id 'case-nope'"}
    case_id = await seed_case(services)
    note = {"kind": "note", "actor": "alice", "text": "hello"}
    assert (await api.get("/api/cases")).status_code == 401
    assert (await api.get(f"/api/cases/{case_id}", headers=bearer("nope"))).status_code == 401
    refused = await api.post(f"/api/cases/{case_id}/commands", json=note)
    assert refused.status_code == 401
    unknown = await api.post("/api/cases/case-nope/commands", json=note, headers=OPERATOR)
    assert unknown.status_code == 404


async def test_command_reaches_the_case_workflow_once_per_request(
    api: httpx.AsyncClient, services: Services, temporal_client: Client, task_queue: str
) -> None:
    case_id = await seed_case(services)
    handle = await start_case_workflow(temporal_client, services, case_id, task_queue, 3)
    close = {
        "kind": "close",
        "actor": "alice",
        "text": "scanner confirmed, blocked upstream",
        "resolution": "true_positive",
    }
    url = f"/api/cases/{case_id}/commands"

    first = await api.post(url, json=close, headers=OPERATOR)
    again = await api.post(url, json=close, headers=OPERATOR)
    keyed = await api.post(url, json=close, headers=OPERATOR | {"Idempotency-Key": "k-2"})

    assert [a.status_code for a in (first, again, keyed)] == [202, 202, 202]
    assert first.json() == again.json()
    assert first.json()["workflow_id"] == handle.id
    assert keyed.json()["command_id"] != first.json()["command_id"]
    await handle.result()
    received = await handle.query(CommandRecorder.received)
    assert [c.id for c in received] == [first.json()["command_id"]] * 2 + [
        keyed.json()["command_id"]
    ]
    command = received[0]
    assert command.data == {"case_id": case_id}
    assert (command.kind, command.actor, command.resolution) == (
        "close",
        "alice",
        Resolution.TRUE_POSITIVE,
    )
    assert command.text == "scanner confirmed, blocked upstream"
    assert command.data == {"case_id": case_id}


async def test_acknowledge_escalate_to_a_level_and_ticket_reach_the_workflow(
    api: httpx.AsyncClient, services: Services, temporal_client: Client, task_queue: str
) -> None:
    case_id = await seed_case(services)
    handle = await start_case_workflow(temporal_client, services, case_id, task_queue, 3)
    url = f"/api/cases/{case_id}/commands"
    bodies = [
        {"kind": "acknowledge", "actor": "alice"},
        {"kind": "escalate", "actor": "alice", "to": "management", "text": "CFO laptop"},
        {"kind": "ticket", "actor": "alice", "system": "jira"},
    ]
    answers = [await api.post(url, json=body, headers=OPERATOR) for body in bodies]

    assert [a.status_code for a in answers] == [202, 202, 202]
    await handle.result()
    received = await handle.query(CommandRecorder.received)
    assert [(c.kind, c.data) for c in received] == [
        ("acknowledge", {"case_id": case_id}),
        ("escalate", {"to": "management", "case_id": case_id}),
        ("ticket", {"system": "jira", "case_id": case_id}),
    ]


async def test_an_ended_case_takes_notes_only(
    api: httpx.AsyncClient, services: Services, temporal_client: Client, task_queue: str
) -> None:
    ended = await seed_case(services)
    handle = await start_case_workflow(temporal_client, services, ended, task_queue, 0)
    await handle.result()
    closed = await seed_case(services, state=CaseState.CLOSED, resolution=Resolution.BENIGN)
    note = {"kind": "note", "actor": "alice", "text": "too late, but worth saying"}
    assign = {"kind": "assign", "actor": "alice", "assignee": "bob"}

    for case_id in (ended, closed):
        noted = await api.post(f"/api/cases/{case_id}/commands", json=note, headers=OPERATOR)
        refused = await api.post(f"/api/cases/{case_id}/commands", json=assign, headers=OPERATOR)

        assert noted.status_code == 202, noted.text
        assert noted.json()["workflow_id"] is None
        detail = await services.store.get_case_detail(case_id)
        assert detail is not None
        [written] = [e for e in detail.timeline if e.id == noted.json()["command_id"]]
        assert (written.kind, written.actor, written.summary) == (
            "note",
            "alice",
            "too late, but worth saying",
        )
        assert refused.status_code == 409
        assert refused.json() == {
            "error": "conflict",
            "message": f"case {case_id} has ended; it takes notes only",
        }


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"kind": "note", "actor": "alice"}, "a note command needs 'text'"),
        ({"kind": "assign", "actor": "alice"}, "needs 'assignee'"),
        ({"kind": "set_severity", "actor": "alice", "severity": "huge"}, "severity"),
        ({"kind": "set_state", "actor": "alice", "state": "closed"}, "close command"),
        ({"kind": "close", "actor": "alice"}, "needs 'resolution'"),
        ({"kind": "note", "actor": "", "text": "x"}, "actor"),
        ({"kind": "ticket", "actor": "alice"}, "a ticket command needs 'system'"),
        ({"kind": "escalate", "actor": "alice", "to": ""}, "to"),
        ({"kind": "acknowledge"}, "actor"),
    ],
)
async def test_incomplete_command_is_422(
    api: httpx.AsyncClient, services: Services, body: dict[str, str], problem: str
) -> None:
    case_id = await seed_case(services)
    answer = await api.post(f"/api/cases/{case_id}/commands", json=body, headers=OPERATOR)
    assert answer.status_code == 422
    assert problem in answer.json()["message"]

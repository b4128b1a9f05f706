"""`/api/approvals`: decisions as the `decide` Update to a real workflow on the dev server.

The playbook workflows are not needed here: a tiny workflow below holds one request
and validates decisions the way the product's rules say (only named deciders, one
settling decision), so the tests show what the API does with an accepted Update, a
rejected one, and a workflow that has ended.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from soar.api.deps import Services
from soar.approvals.models import (
    DECIDE_UPDATE,
    ApprovalRequest,
    ApprovalState,
    Decision,
    DecisionKind,
    DecisionRequest,
    DecisionResult,
)
from soar.cases.models import TimelineKind
from tests.conftest import API_TOKEN, bearer, unique
from tests.store import factories

OPERATOR = bearer(API_TOKEN)


@workflow.defn(name="ApiTestApprovalWorkflow")
class OneApproval:
    """Holds one request (quorum of one) until told to finish, as a playbook carries on
    with its action after the decision and still answers late deciders."""

    @workflow.init
    def __init__(self, request: ApprovalRequest) -> None:
        self.request = request
        self.finished = False

    @workflow.run
    async def run(self, request: ApprovalRequest) -> ApprovalRequest:
        await workflow.wait_condition(lambda: self.finished)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.request

    @workflow.signal
    def finish(self) -> None:
        self.finished = True

    @workflow.update(name=DECIDE_UPDATE)
    def decide(self, decision: DecisionRequest) -> DecisionResult:
        now = workflow.now()
        state = (
            ApprovalState.APPROVED
            if decision.decision is DecisionKind.APPROVE
            else ApprovalState.DENIED
        )
        recorded = Decision(
            approval_id=decision.approval_id,
            decision=decision.decision,
            user=decision.user,
            reason=decision.reason,
            at=now,
        )
        self.request = self.request.model_copy(
            update={
                "state": state,
                "decisions": [*self.request.decisions, recorded],
                "settled_at": now,
                "settled_by": decision.user,
            }
        )
        approvals = int(state is ApprovalState.APPROVED)
        return DecisionResult(
            approval_id=self.request.id,
            state=state,
            approvals=approvals,
            quorum=self.request.quorum,
            message=f"{state.value} by {decision.user}",
            request=self.request,
        )

    @decide.validator
    def _check(self, decision: DecisionRequest) -> None:
        request = self.request
        if decision.user not in request.deciders:
            raise ValueError(f"{decision.user} may not decide on {request.id}")
        if request.state is not ApprovalState.PENDING:
            assert request.settled_at is not None
            raise ValueError(
                f"already {request.state.value} by {request.settled_by} "
                f"at {request.settled_at.isoformat()}"
            )


@pytest.fixture
async def task_queue(temporal_client: Client) -> AsyncIterator[str]:
    queue = f"api-approvals-{unique()}"
    async with Worker(
        temporal_client,
        task_queue=queue,
        workflows=[OneApproval],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield queue


async def seed_approval(services: Services, **fields: Any) -> ApprovalRequest:
    """A case and an approval request on it in the store, with unique ids."""
    case_id = f"case-{unique()}"
    await services.store.upsert_case(factories.case(case_id, correlation_key=f"ip:{case_id}"))
    now = datetime.now(UTC)
    request = factories.approval(
        f"{case_id}/playbook/malicious_ip/approval-{unique()}",
        case_id,
        **{
            "workflow_id": f"approval-{unique()}",
            "deciders": ["alice", "bob"],
            "requested_at": now,
            "expires_at": now + timedelta(hours=1),
        }
        | fields,
    )
    await services.store.upsert_approval(request)
    return request


async def start(client: Client, request: ApprovalRequest, queue: str) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        OneApproval.run, request, id=request.workflow_id, task_queue=queue
    )


async def refusals(services: Services, request: ApprovalRequest) -> list[str]:
    """The text of the refusals on the request's case timeline."""
    case = await services.store.get_case_detail(request.case_id)
    assert case is not None
    return [
        f"{event.actor} {event.summary} {event.reason or ''}"
        for event in case.timeline
        if event.kind == TimelineKind.APPROVAL_REFUSED
    ]


def decision_url(request: ApprovalRequest) -> str:
    """Ids may hold slashes (playbooks derive them from workflow ids); quoted, they still route."""
    return f"/api/approvals/{quote(request.id, safe='')}/decision"


async def test_approve_is_answered_with_the_result_and_a_retry_is_harmless(
    api: httpx.AsyncClient, services: Services, temporal_client: Client, task_queue: str
) -> None:
    request = await seed_approval(services)
    handle = await start(temporal_client, request, task_queue)
    body = {"decision": "approve", "user": "alice", "reason": "confirmed scanner"}

    first = await api.post(decision_url(request), json=body, headers=OPERATOR)
    retried = await api.post(decision_url(request), json=body, headers=OPERATOR)

    assert first.status_code == 200
    answer = first.json()
    shown = answer.pop("request")
    assert answer == {
        "approval_id": request.id,
        "state": "approved",
        "approvals": 1,
        "quorum": 1,
        "message": "approved by alice",
    }
    assert (shown["id"], shown["state"], shown["settled_by"]) == (request.id, "approved", "alice")
    assert retried.status_code == 200
    assert retried.json() == first.json()
    await handle.signal(OneApproval.finish)
    settled = await handle.result()
    assert [(d.user, d.reason) for d in settled.decisions] == [("alice", "confirmed scanner")]
    assert await refusals(services, request) == []


async def test_second_decision_is_409_with_the_validators_reason_and_audited(
    api: httpx.AsyncClient, services: Services, temporal_client: Client, task_queue: str
) -> None:
    request = await seed_approval(services)
    handle = await start(temporal_client, request, task_queue)
    deny = {"decision": "deny", "user": "bob", "reason": "not sure"}

    approved = await api.post(
        decision_url(request), json={"decision": "approve", "user": "alice"}, headers=OPERATOR
    )
    refused = await api.post(decision_url(request), json=deny, headers=OPERATOR)

    assert approved.status_code == 200
    assert refused.status_code == 409
    message = refused.json()["message"]
    assert message.startswith("already approved by alice at ")
    assert refused.json()["error"] == "conflict"
    [audited] = await refusals(services, request)
    assert "bob" in audited
    assert message in audited
    await handle.signal(OneApproval.finish)
    workflow = await handle.result()
    assert [d.user for d in workflow.decisions] == ["alice"]


async def test_unauthorised_decider_is_refused_and_audited(
    api: httpx.AsyncClient, services: Services, temporal_client: Client, task_queue: str
) -> None:
    request = await seed_approval(services)
    await start(temporal_client, request, task_queue)
    body = {"decision": "approve", "user": "mallory", "reason": "trust me"}

    refused = await api.post(decision_url(request), json=body, headers=OPERATOR)

    assert refused.status_code == 409
    assert refused.json()["message"] == f"mallory may not decide on {request.id}"
    [audited] = await refusals(services, request)
    assert "mallory" in audited
    assert "may not decide" in audited
    allowed = await api.post(
        decision_url(request), json={"decision": "deny", "user": "bob"}, headers=OPERATOR
    )
    assert allowed.json()["state"] == "denied"


async def test_decision_after_the_workflow_ended_is_409_already_settled(
    api: httpx.AsyncClient, services: Services, temporal_client: Client, task_queue: str
) -> None:
    request = await seed_approval(services)
    handle = await start(temporal_client, request, task_queue)
    await handle.execute_update(
        OneApproval.decide,
        DecisionRequest(approval_id=request.id, decision=DecisionKind.DENY, user="bob"),
    )
    await handle.signal(OneApproval.finish)
    settled = await handle.result()
    await services.store.upsert_approval(settled)

    late = await api.post(
        decision_url(request), json={"decision": "approve", "user": "alice"}, headers=OPERATOR
    )

    assert late.status_code == 409
    message = late.json()["message"]
    assert re.fullmatch(r"already denied by bob at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", message)
    [audited] = await refusals(services, request)
    assert "alice" in audited


async def test_unknown_approval_is_404_and_every_route_needs_the_token(
    api: httpx.AsyncClient, services: Services
) -> None:
    request = await seed_approval(services)
    body = {"decision": "approve", "user": "alice"}
    missing = await api.post("/api/approvals/appr-nope/decision", json=body, headers=OPERATOR)
    assert missing.status_code == 404
    assert missing.json()["message"] == "no approval with id 'appr-nope'"
    assert (await api.get("/api/approvals/appr-nope", headers=OPERATOR)).status_code == 404
    assert (await api.post(decision_url(request), json=body)).status_code == 401
    wrong = await api.post(decision_url(request), json=body, headers=bearer("nope"))
    assert wrong.status_code == 401
    assert (await api.get("/api/approvals")).status_code == 401
    assert (await api.get(f"/api/approvals/{request.id}")).status_code == 401
    invalid = await api.post(
        decision_url(request), json={"decision": "maybe", "user": "alice"}, headers=OPERATOR
    )
    assert invalid.status_code == 422


async def test_list_shows_pending_by_default_and_filters_by_state(
    api: httpx.AsyncClient, services: Services
) -> None:
    pending = await seed_approval(services)
    approved = await seed_approval(
        services, state=ApprovalState.APPROVED, settled_by="alice", settled_at=datetime.now(UTC)
    )

    async def listed(**params: Any) -> set[str]:
        answer = await api.get("/api/approvals", params={"limit": 500, **params}, headers=OPERATOR)
        assert answer.status_code == 200
        return {a["id"] for a in answer.json()}

    by_default = await listed()
    assert pending.id in by_default
    assert approved.id not in by_default
    assert approved.id in await listed(state="approved")
    assert pending.id not in await listed(state="approved")
    assert {pending.id, approved.id} <= await listed(state="all")
    one = (await api.get(f"/api/approvals/{pending.id}", headers=OPERATOR)).json()
    assert (one["id"], one["state"], one["deciders"]) == (pending.id, "pending", ["alice", "bob"])
    assert (
        await api.get("/api/approvals", params={"state": "x"}, headers=OPERATOR)
    ).status_code == 422

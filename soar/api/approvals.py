"""Operator API for approvals: list and read requests, and decide on them.

A decision is the same `decide` Workflow Update every client sends (CLI, Slack bot):
the playbook's workflow validates it against configuration and either records it
exactly once or rejects it without touching history. A rejection comes back as 409
with the validator's own words ("already approved by alice at …") and is written to the
case's timeline, so refused attempts are audited as well as accepted ones.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from soar.api.deps import Services, require_operator, services
from soar.approvals.audit import record_refusal
from soar.approvals.models import (
    DECIDE_UPDATE,
    ApprovalRequest,
    ApprovalState,
    DecisionKind,
    DecisionRequest,
    DecisionResult,
    decision_update_id,
)

router = APIRouter(
    prefix="/api/approvals", tags=["approvals"], dependencies=[Depends(require_operator)]
)

DECISION_WAIT = timedelta(seconds=15)
"""How long one call waits for the workflow to take a decision (a worker must be up)."""


class DecisionBody(BaseModel):
    """A decision as an operator sends it; the approval id comes from the path."""

    decision: DecisionKind
    user: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


def _no_longer_open(approval: ApprovalRequest) -> str:
    """Why a decision cannot reach the request, with what the store knows of its end."""
    message = "approval is no longer open"
    if approval.state is not ApprovalState.PENDING:
        message += f": {approval.state.value}"
        if approval.settled_by:
            message += f" by {approval.settled_by}"
        if approval.settled_at:
            message += f" at {approval.settled_at.isoformat()}"
    return message


def _rejection_message(error: WorkflowUpdateFailedError) -> str:
    """The validator's message, carried by the failure that caused the rejection."""
    cause = error.cause
    return getattr(cause, "message", None) or str(cause) or "the decision was refused"


@router.get("", response_model=list[ApprovalRequest])
async def list_approvals(
    svc: Annotated[Services, Depends(services)],
    state: ApprovalState | Literal["all"] = ApprovalState.PENDING,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ApprovalRequest]:
    """Approval requests with their decisions, oldest first; pending ones unless asked."""
    return await svc.store.list_approvals(
        state=None if state == "all" else ApprovalState(state), limit=limit, offset=offset
    )


@router.get("/{approval_id:path}", response_model=ApprovalRequest)
async def get_approval(
    approval_id: str, svc: Annotated[Services, Depends(services)]
) -> ApprovalRequest:
    """One approval request with its decisions."""
    approval = await svc.store.get_approval(approval_id)
    if approval is None:
        raise HTTPException(404, f"no approval with id {approval_id!r}")
    return approval


@router.post("/{approval_id:path}/decision", response_model=DecisionResult)
async def decide(
    approval_id: str, body: DecisionBody, svc: Annotated[Services, Depends(services)]
) -> DecisionResult:
    """Send the decision as the `decide` Update; 409 with the reason when it is refused.

    The Update id is derived from the approval, the user and the decision, so a retried
    call (or a double click) gets the first call's answer instead of a second decision.
    """
    approval = await svc.store.get_approval(approval_id)
    if approval is None:
        raise HTTPException(404, f"no approval with id {approval_id!r}")
    request = DecisionRequest(approval_id=approval_id, **body.model_dump())
    handle = svc.client.get_workflow_handle(approval.workflow_id)
    try:
        return await handle.execute_update(
            DECIDE_UPDATE,
            request,
            id=decision_update_id(request),
            result_type=DecisionResult,
            rpc_timeout=DECISION_WAIT,
        )
    except WorkflowUpdateFailedError as error:
        message = _rejection_message(error)
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        raise HTTPException(
            504,
            "the approval's workflow did not answer in time (is a worker running?); "
            "the decision may still be applied, and sending it again is safe",
        ) from error
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise HTTPException(
                503, f"Temporal did not take the decision: {error.message}"
            ) from error
        message = _no_longer_open(approval)
    await record_refusal(svc.store, approval, request, message)
    raise HTTPException(409, message)

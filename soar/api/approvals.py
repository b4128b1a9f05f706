"""Operator API for approvals: list and read requests, and decide on them.

A decision is the same `decide` Workflow Update every client sends (CLI, Slack bot):
the playbook's workflow validates it against configuration and either records it
exactly once or rejects it without touching history. A rejection comes back as 409
with the validator's own words ("already approved by alice at …") and is written to the
case's timeline, so refused attempts are audited as well as accepted ones.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from soar.api.deps import Services, require_operator, services
from soar.approvals import service
from soar.approvals.models import (
    ApprovalRequest,
    ApprovalState,
    DecisionKind,
    DecisionRequest,
    DecisionResult,
)

router = APIRouter(
    prefix="/api/approvals", tags=["approvals"], dependencies=[Depends(require_operator)]
)


class DecisionBody(BaseModel):
    """A decision as an operator sends it; the approval id comes from the path."""

    decision: DecisionKind
    user: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


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
    return await service.find_approval(svc.store, approval_id)


@router.post("/{approval_id:path}/decision", response_model=DecisionResult)
async def decide(
    approval_id: str, body: DecisionBody, svc: Annotated[Services, Depends(services)]
) -> DecisionResult:
    """Send the decision as the `decide` Update; 409 with the reason when it is refused,
    503 when Temporal refused it, 504 when no worker answered in time (sending it again is
    safe: a retried call gets the first call's answer instead of a second decision)."""
    request = DecisionRequest(approval_id=approval_id, **body.model_dump())
    return await service.decide(svc.client, svc.store, request)

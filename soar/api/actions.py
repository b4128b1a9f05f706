"""Operator API for containment: list the actions, revert one, and ask for a containment.

Every operation is :mod:`soar.containment.service`'s, the one the Slack bot and the CLI
use too: a revert goes through Temporal (the action's expiry workflow, or a revert
workflow of its own), and a containment request starts the playbook with its approval.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field, model_validator

from soar.api.deps import Services, require_operator, services
from soar.containment import service
from soar.containment.contract import RevertRequest
from soar.containment.models import ActionState, ContainmentAction
from soar.containment.service import MAX_TTL_SECONDS, ContainmentAsk, ContainmentRequest

router = APIRouter(prefix="/api", tags=["containment"], dependencies=[Depends(require_operator)])


class RevertBody(BaseModel):
    """Who reverts the action, and why (both recorded on the case's timeline)."""

    user: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class RevertAnswer(BaseModel):
    """How the revert ended. `reverted` is false when an actuator could not undo it: the
    action's `detail` says why, and so does the timeline."""

    action_id: str
    reverted: bool
    state: ActionState
    detail: str | None
    workflow_id: str = Field(description="The workflow that reverted it.")
    action: ContainmentAction


class ContainmentBody(BaseModel):
    """A containment a person asks for; it starts the playbook and needs its approval."""

    ask: ContainmentAsk
    target: str = Field(min_length=1, max_length=256)
    requested_by: str = Field(min_length=1, max_length=200)
    ttl_seconds: int | None = Field(default=None, ge=1, le=MAX_TTL_SECONDS)
    dry_run: bool = False
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _fits(self) -> ContainmentBody:
        service.check_target(self.ask, self.target.strip())
        if self.ttl_seconds is not None and self.ask is not ContainmentAsk.BLOCK_IP:
            raise ValueError(f"{self.ask.value} takes no ttl_seconds; only block-ip does")
        return self


class ContainmentAccepted(BaseModel):
    """The playbook is running. `approval_id` is the request it opened; null when it has
    not opened one yet, or `ended` without one (`detail` says why: a guardrail refused,
    nobody may decide)."""

    case_id: str
    workflow_id: str
    playbook: str
    approval_id: str | None
    detail: str | None
    ended: bool


@router.get("/actions", response_model=list[ContainmentAction])
async def list_actions(
    svc: Annotated[Services, Depends(services)],
    active: Annotated[
        bool, Query(description="Only actions in force (applied or verified, not reverted).")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ContainmentAction]:
    """Containment actions of every case: newest first, or those in force, soonest
    expiry first."""
    return await service.list_actions(svc.store, active=active, limit=limit, offset=offset)


@router.get("/actions/{action_id:path}", response_model=ContainmentAction)
async def get_action(
    action_id: str, svc: Annotated[Services, Depends(services)]
) -> ContainmentAction:
    """One containment action as last recorded."""
    return await service.find_action(svc.store, action_id)


@router.post("/actions/{action_id:path}/revert", response_model=RevertAnswer)
async def revert_action(
    action_id: str, body: RevertBody, svc: Annotated[Services, Depends(services)]
) -> RevertAnswer:
    """Revert the action now, through Temporal; 404 for an unknown action, 409 when it
    cannot be reverted (already reverted, a revoke, a dry run, …), 503/504 when Temporal
    or a worker did not answer (asking again is safe)."""
    done = await service.revert(
        svc.client,
        svc.store,
        action_id,
        RevertRequest(user=body.user, reason=body.reason),
        task_queue=svc.settings.temporal.task_queue,
        channels=svc.channels,
    )
    return RevertAnswer(
        action_id=done.action.id,
        reverted=done.done,
        state=done.action.state,
        detail=done.action.detail,
        workflow_id=done.workflow_id,
        action=done.action,
    )


def request_id(body: ContainmentBody, idempotency_key: str | None) -> str:
    """The same request gets the same id (a retried call); an `Idempotency-Key` header
    tells two deliberate ones apart."""
    material = json.dumps(
        {"body": body.model_dump(mode="json"), "key": idempotency_key}, sort_keys=True
    )
    return "api-" + hashlib.sha256(material.encode()).hexdigest()[:32]


@router.post("/containment", status_code=202, response_model=ContainmentAccepted)
async def request_containment(
    body: ContainmentBody,
    svc: Annotated[Services, Depends(services)],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ContainmentAccepted:
    """Start the containment playbook for the target, with its approval (the requester
    may not approve it); waits a few seconds for the approval request to be opened."""
    started = await service.request_containment(
        svc.client,
        svc.settings.temporal.task_queue,
        ContainmentRequest(
            ask=body.ask,
            target=body.target.strip(),
            requested_by=body.requested_by,
            source="api",
            request_id=request_id(body, idempotency_key),
            ttl_seconds=body.ttl_seconds,
            dry_run=body.dry_run,
            reason=body.reason,
        ),
        svc.channels,
    )
    started = await service.await_approval(svc.client, svc.store, started)
    return ContainmentAccepted(
        case_id=started.case_id,
        workflow_id=started.workflow_id,
        playbook=started.playbook,
        approval_id=started.approval_id,
        detail=started.detail,
        ended=started.ended,
    )

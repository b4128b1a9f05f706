"""Operator API for cases: list and read them from the store, change them through their workflow.

Reads come from the case store (the queryable projection). Changes never touch the
store: they go to the case's workflow as the `command` signal, and the workflow records
what it did on the timeline, so every client (API, CLI, bot, playbooks) changes a case
the same way.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from pydantic import BaseModel, Field, model_validator
from temporalio.service import RPCError, RPCStatusCode

from soar.alerts.models import Severity
from soar.api.deps import Services, require_operator, services
from soar.cases.correlation import case_workflow_id
from soar.cases.models import CaseCommand, CaseCommandKind, CaseState, Resolution
from soar.store.views import CaseDetail, CaseSummary

router = APIRouter(prefix="/api/cases", tags=["cases"], dependencies=[Depends(require_operator)])

COMMAND_SIGNAL = "command"
"""The signal of the case workflow that takes a :class:`CaseCommand`."""

REQUIRED_FIELD: dict[CaseCommandKind, str] = {
    CaseCommandKind.NOTE: "text",
    CaseCommandKind.ASSIGN: "assignee",
    CaseCommandKind.SET_SEVERITY: "severity",
    CaseCommandKind.SET_STATE: "state",
    CaseCommandKind.CLOSE: "resolution",
}
"""The field each kind of command cannot do without (escalate needs none)."""


class CommandBody(BaseModel):
    """A change an operator asks for; `text` is the note, or the why of any other change."""

    kind: CaseCommandKind
    actor: str = Field(min_length=1, max_length=200)
    text: str | None = Field(default=None, max_length=10_000)
    assignee: str | None = Field(default=None, min_length=1, max_length=200)
    severity: Severity | None = None
    state: CaseState | None = None
    resolution: Resolution | None = None

    @model_validator(mode="after")
    def _has_what_it_needs(self) -> CommandBody:
        needed = REQUIRED_FIELD.get(self.kind)
        if needed is not None and getattr(self, needed) in (None, ""):
            raise ValueError(f"a {self.kind.value} command needs {needed!r}")
        if self.kind is CaseCommandKind.SET_STATE and self.state is CaseState.CLOSED:
            raise ValueError("close a case with a close command, which records its resolution")
        return self


class CommandAccepted(BaseModel):
    """The command was handed to the case's workflow, which applies it once."""

    command_id: str
    case_id: str
    workflow_id: str


def command_id(case_id: str, body: CommandBody, idempotency_key: str | None) -> str:
    """The same request to the same case gets the same id, so the workflow applies it once.

    An `Idempotency-Key` header tells apart two deliberate, identical requests (the same
    note written twice on purpose) from one request retried.
    """
    material = json.dumps(
        {"case": case_id, "body": body.model_dump(mode="json"), "key": idempotency_key},
        sort_keys=True,
    )
    return "api-" + hashlib.sha256(material.encode()).hexdigest()[:32]


@router.get("", response_model=list[CaseSummary])
async def list_cases(
    svc: Annotated[Services, Depends(services)],
    state: CaseState | None = None,
    severity: Severity | None = None,
    assignee: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CaseSummary]:
    """Cases, most recently updated first."""
    return await svc.store.list_cases(
        state=state, severity=severity, assignee=assignee, limit=limit, offset=offset
    )


@router.get("/{case_id:path}", response_model=CaseDetail)
async def get_case(
    case_id: str,
    svc: Annotated[Services, Depends(services)],
    alert_limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CaseDetail:
    """A case with its most recent alerts, observables, timeline, approvals and actions."""
    case = await svc.store.get_case_detail(case_id, alert_limit=alert_limit)
    if case is None:
        raise HTTPException(404, f"no case with id {case_id!r}")
    return case


@router.post("/{case_id:path}/commands", status_code=202, response_model=CommandAccepted)
async def send_command(
    case_id: str,
    body: CommandBody,
    svc: Annotated[Services, Depends(services)],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> CommandAccepted:
    """Signal the case's workflow; 409 when the case has ended and takes no more changes."""
    case = await svc.store.get_case_detail(case_id, alert_limit=1)
    if case is None:
        raise HTTPException(404, f"no case with id {case_id!r}")
    if case.state is CaseState.CLOSED:
        raise HTTPException(409, f"case {case_id} is closed and takes no more changes")
    command = CaseCommand(
        id=command_id(case_id, body, idempotency_key),
        # The case id travels along: a later case can reuse the workflow id of its key.
        data={"case_id": case_id},
        **body.model_dump(),
    )
    workflow_id = case_workflow_id(case.correlation_key)
    try:
        await svc.client.get_workflow_handle(workflow_id).signal(
            COMMAND_SIGNAL,
            command,
            rpc_timeout=timedelta(seconds=svc.settings.temporal.rpc_timeout_seconds),
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(
                409, f"case {case_id} has ended: its workflow no longer takes changes"
            ) from error
        raise HTTPException(503, f"Temporal did not take the command: {error.message}") from error
    return CommandAccepted(command_id=command.id, case_id=case_id, workflow_id=workflow_id)

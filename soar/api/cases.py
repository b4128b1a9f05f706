"""Operator API for cases: list and read them from the store, change them through their workflow.

Reads come from the case store (the queryable projection). Changes go through
:mod:`soar.cases.service`, the one way every client (API, CLI, bot) changes a case —
merging and splitting included.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, Field, model_validator

from soar.alerts.models import Severity
from soar.api.deps import Services, require_operator, services
from soar.cases import service, similarity
from soar.cases.models import INTERNAL_KINDS, CaseCommand, CaseCommandKind, CaseState, Resolution
from soar.errors import NotFoundError
from soar.store.views import CaseDetail, CaseSummary

router = APIRouter(prefix="/api/cases", tags=["cases"], dependencies=[Depends(require_operator)])

REQUIRED_FIELD: dict[CaseCommandKind, str] = {
    CaseCommandKind.NOTE: "text",
    CaseCommandKind.ASSIGN: "assignee",
    CaseCommandKind.SET_SEVERITY: "severity",
    CaseCommandKind.SET_STATE: "state",
    CaseCommandKind.CLOSE: "resolution",
    CaseCommandKind.TICKET: "system",
}
"""The field each kind of command cannot do without (escalate and acknowledge need none)."""


class CommandBody(BaseModel):
    """A change an operator asks for; `text` is the note, or the why of any other change."""

    kind: CaseCommandKind
    actor: str = Field(min_length=1, max_length=200)
    text: str | None = Field(default=None, max_length=10_000)
    assignee: str | None = Field(default=None, min_length=1, max_length=200)
    severity: Severity | None = None
    state: CaseState | None = None
    resolution: Resolution | None = None
    to: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="escalate: the level of the case's policy (its name or number), or a person.",
    )
    system: str | None = Field(
        default=None, min_length=1, max_length=100, description="ticket: the `[tickets]` name."
    )

    @model_validator(mode="after")
    def _has_what_it_needs(self) -> CommandBody:
        if self.kind in INTERNAL_KINDS:
            raise ValueError(
                "merge and split have their own routes: POST /api/cases/{id}/merge, "
                "POST /api/cases/{id}/split"
            )
        needed = REQUIRED_FIELD.get(self.kind)
        if needed is not None and getattr(self, needed) in (None, ""):
            raise ValueError(f"a {self.kind.value} command needs {needed!r}")
        if self.kind is CaseCommandKind.SET_STATE and self.state is CaseState.CLOSED:
            raise ValueError("close a case with a close command, which records its resolution")
        return self


class CommandAccepted(BaseModel):
    """The command was handed to the case's workflow, which applies it once (or, for a
    note on a case that has ended, written to its timeline: `workflow_id` is null)."""

    command_id: str
    case_id: str
    workflow_id: str | None


class MergeBody(BaseModel):
    """Merge this case into the open case `into`."""

    into: str = Field(min_length=1, max_length=300, description="The case that takes it in.")
    actor: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=10_000)


class MergeAccepted(BaseModel):
    """The merge was handed to the case's workflow (202), or had been made before (200,
    `already_merged`); `merged_into` is where the case's alerts, timeline and open
    approvals go (or went)."""

    command_id: str
    case_id: str
    merged_into: str
    already_merged: bool


class SplitBody(BaseModel):
    """Move these alerts of the case out into a new case."""

    alert_ids: list[str] = Field(min_length=1, max_length=service.MAX_SPLIT_ALERTS)
    actor: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=10_000)


class SplitAccepted(BaseModel):
    """The split was handed to the case's workflow (202), or had been made before (200,
    `split_into` names the new case). `workflow_id` is the new case's workflow."""

    command_id: str
    case_id: str
    alert_ids: list[str]
    workflow_id: str
    split_into: str | None = None


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
    """A case with its most recent alerts, observables, timeline, approvals and actions,
    and the other open cases that share an observable with it (`similar`)."""
    case = await svc.store.get_case_detail(case_id, alert_limit=alert_limit)
    if case is None:
        raise NotFoundError(f"no case with id {case_id!r}")
    ignored = svc.settings.correlation.ignore_for_similarity
    case.similar = await similarity.similar_cases(svc.store, case.id, ignored)
    return case


@router.post("/{case_id:path}/commands", status_code=202, response_model=CommandAccepted)
async def send_command(
    case_id: str,
    body: CommandBody,
    svc: Annotated[Services, Depends(services)],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> CommandAccepted:
    """Signal the case's workflow. A case that has ended takes notes only (written to its
    timeline at once, `workflow_id` null); any other change to it is 409."""
    data = {name: value for name in ("to", "system") if (value := getattr(body, name))}
    command = CaseCommand(
        id=command_id(case_id, body, idempotency_key),
        **body.model_dump(exclude={"to", "system"}),
        data=data,
    )
    sent = await service.send_command(svc.client, svc.store, case_id, command)
    return CommandAccepted(
        command_id=command.id, case_id=sent.case.id, workflow_id=sent.workflow_id
    )


@router.post("/{case_id:path}/merge", status_code=202, response_model=MergeAccepted)
async def merge_case(
    case_id: str, body: MergeBody, svc: Annotated[Services, Depends(services)], response: Response
) -> MergeAccepted:
    """Merge the case into another open case: its alerts, timeline and open approvals
    end up there, both timelines record it, and it closes pointing there. Asking again
    answers where it went (200); 409 for a case merged into itself or elsewhere, or an
    ended case on either side."""
    sent = await service.merge_cases(
        svc.client, svc.store, case_id, body.into, actor=body.actor, reason=body.reason
    )
    if sent.already:
        response.status_code = 200
    return MergeAccepted(
        command_id=sent.command_id,
        case_id=sent.case.id,
        merged_into=sent.into,
        already_merged=sent.already,
    )


@router.post("/{case_id:path}/split", status_code=202, response_model=SplitAccepted)
async def split_case(
    case_id: str, body: SplitBody, svc: Annotated[Services, Depends(services)], response: Response
) -> SplitAccepted:
    """Move alerts of the case out into a new case of their own; both timelines record
    it. Asking again answers with the new case (200); 404 for an unknown alert, 409 for
    one on another case, a split that would leave the case empty, or an ended case."""
    sent = await service.split_case(
        svc.client, svc.store, case_id, body.alert_ids, actor=body.actor, reason=body.reason
    )
    if sent.into is not None:
        response.status_code = 200
    return SplitAccepted(
        command_id=sent.command_id,
        case_id=sent.case.id,
        alert_ids=sent.alert_ids,
        workflow_id=sent.workflow_id,
        split_into=sent.into,
    )

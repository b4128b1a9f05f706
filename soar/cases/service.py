"""Changing a case, written once for the API, the Slack bot and the CLI.

The case workflow owns the case: notes, assignments, severity, state, escalations and
closures reach it as the `command` signal carrying a :class:`CaseCommand` with a
deterministic id, so a repeated send is applied once. A case workflow id is reused by
the next case of the same correlation key once a case ends, so the command names its
case and the service first checks that the running workflow still holds it. Once a case
has ended it takes notes only — documentation is never refused — and those are written
to its timeline directly; any other change is refused with one wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from soar.cases.contract import CASE_QUERY, COMMAND_SIGNAL, case_workflow_id
from soar.cases.models import Case, CaseCommand, CaseCommandKind, TimelineEvent, describe_command
from soar.errors import ConflictError, NotFoundError, UnavailableError
from soar.store.repository import Repository
from soar.store.views import CaseDetail

RPC_WAIT = timedelta(seconds=5)
MAX_SUMMARY_CHARS = 1000


@dataclass(frozen=True)
class CommandSent:
    """Where a command went: the case, and the workflow that applies it (None when the
    case had ended and a note was written to its timeline directly)."""

    case: CaseDetail
    workflow_id: str | None


def ended(case_id: str) -> str:
    """The one refusal of a change to a case that has ended."""
    return f"case {case_id} has ended; it takes notes only"


async def find_case(store: Repository, case_id: str) -> CaseDetail:
    """The stored case, or :class:`NotFoundError` saying which id is unknown."""
    case = await store.get_case_detail(case_id.strip(), alert_limit=0)
    if case is None:
        raise NotFoundError(f"no case with id {case_id.strip()!r}")
    return case


async def send_command(
    client: Client, store: Repository, case_id: str, command: CaseCommand
) -> CommandSent:
    """Send `command` to the case's workflow.

    Raises :class:`NotFoundError` for an unknown case, :class:`ConflictError` for a
    change other than a note to a case that has ended, and :class:`UnavailableError`
    when Temporal did not take it.
    """
    case = await find_case(store, case_id)
    # The case id travels along: a later case can reuse the workflow id of its key.
    command = command.model_copy(update={"data": {**command.data, "case_id": case.id}})
    workflow_id = case_workflow_id(case.correlation_key)
    handle = client.get_workflow_handle(workflow_id)
    try:
        if await _holds_case(handle, case.id):
            await handle.signal(COMMAND_SIGNAL, command, rpc_timeout=RPC_WAIT)
            return CommandSent(case=case, workflow_id=workflow_id)
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise UnavailableError(f"Temporal did not take the command: {error.message}") from error
    if command.kind is not CaseCommandKind.NOTE:
        raise ConflictError(ended(case.id))
    await store.add_timeline_event(_note_event(case.id, command))
    return CommandSent(case=case, workflow_id=None)


def _note_event(case_id: str, command: CaseCommand) -> TimelineEvent:
    kind, summary = describe_command(command)
    return TimelineEvent(
        id=command.id,
        case_id=case_id,
        at=datetime.now(UTC),
        kind=kind,
        actor=command.actor,
        summary=summary[:MAX_SUMMARY_CHARS],
        data={"command_id": command.id, **command.data},
    )


async def _holds_case(handle: WorkflowHandle[Any, Any], case_id: str) -> bool:
    """Whether the workflow is running and its live case is `case_id`. When it cannot
    say (no worker answers the query), the signal is sent anyway: the workflow ignores
    a command addressed to another case."""
    try:
        description = await handle.describe(rpc_timeout=RPC_WAIT)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    if description.status != WorkflowExecutionStatus.RUNNING:
        return False
    try:
        # The SDK types `result_type` as a class; the pydantic converter takes the union.
        live = await handle.query(
            CASE_QUERY,
            result_type=Case | None,  # type: ignore[arg-type]
            rpc_timeout=RPC_WAIT,
        )
    except (RPCError, WorkflowQueryFailedError):
        return True
    return live is not None and live.id == case_id

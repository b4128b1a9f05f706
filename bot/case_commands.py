"""Changing a case from Slack: the `command` signal to its case workflow.

The case workflow owns the case; notes, assignments, severity, escalations and
closures reach it as :class:`~soar.cases.models.CaseCommand` signals with a
deterministic id (derived from the Slack interaction), so a repeated send is applied
once. A case workflow id is reused by the next case of the same correlation key once a
case ends, so the command names its case and the bot first checks that the running
workflow still holds it. A note on a case that has ended is written to its timeline
directly: documentation is never refused.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from soar.cases.correlation import case_workflow_id
from soar.cases.models import Case, CaseCommand, CaseCommandKind, TimelineEvent
from soar.store.db import Store
from soar.store.views import CaseDetail
from workflows.sdk.models import CASE_COMMAND_SIGNAL
from workflows.sdk.recorder import describe_command

CASE_QUERY = "case"
RPC_WAIT = timedelta(seconds=5)


class CaseNotFound(Exception):
    """No case with that id is in the store."""


class CaseClosed(Exception):
    """The case has ended; only notes can still be added."""


async def find_case(store: Store, case_id: str) -> CaseDetail:
    """The stored case, or :class:`CaseNotFound` with a message for the person."""
    case = await store.get_case_detail(case_id.strip(), alert_limit=0)
    if case is None:
        raise CaseNotFound(f"no case with id {case_id.strip()!r}")
    return case


async def send_case_command(
    temporal: Client, store: Store, case_id: str, command: CaseCommand
) -> Case:
    """Send `command` to the case's workflow; the case it was sent to is returned."""
    case = await find_case(store, case_id)
    command = command.model_copy(update={"data": {**command.data, "case_id": case.id}})
    handle = temporal.get_workflow_handle(case_workflow_id(case.correlation_key))
    if await _holds_case(handle, case.id):
        try:
            await handle.signal(CASE_COMMAND_SIGNAL, command, rpc_timeout=RPC_WAIT)
            return case
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
    if command.kind is not CaseCommandKind.NOTE:
        raise CaseClosed(f"case {case.id} has ended; it can take notes only")
    kind, summary = describe_command(command)
    await store.add_timeline_event(
        TimelineEvent(
            id=command.id,
            case_id=case.id,
            at=datetime.now(UTC),
            kind=kind,
            actor=command.actor,
            summary=summary[:1000],
            data={"command_id": command.id, **command.data},
        )
    )
    return case


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
        live = await handle.query(CASE_QUERY, result_type=Case | None, rpc_timeout=RPC_WAIT)
    except (RPCError, WorkflowQueryFailedError):
        return True
    return live is not None and live.id == case_id

"""Changing a case, written once for the API, the Slack bot and the CLI.

The case workflow owns the case: notes, assignments, severity, state, escalations and
closures reach it as the `command` signal carrying a :class:`CaseCommand` with a
deterministic id, so a repeated send is applied once. A case workflow id is reused by
the next case of the same correlation key once a case ends, so the command names its
case and the service first checks that the running workflow still holds it. Once a case
has ended it takes notes only — documentation is never refused — and those are written
to its timeline directly; any other change is refused with one wording.

Merging and splitting are written here once too (:func:`merge_cases`,
:func:`split_case`): each is one command with an id derived from what is asked, so a
retried request is applied once, and asking again once it is done answers where the
case or the alerts went. A command for a case that was merged goes to its survivor.
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

from soar.cases.contract import (
    CASE_QUERY,
    COMMAND_SIGNAL,
    case_workflow_id,
    merge_command_id,
    split_command_id,
    split_key,
)
from soar.cases.models import (
    INTERNAL_KINDS,
    Case,
    CaseCommand,
    CaseCommandKind,
    TimelineEvent,
    describe_command,
)
from soar.errors import ConflictError, NotFoundError, UnavailableError
from soar.store.repository import Repository
from soar.store.views import CaseDetail

RPC_WAIT = timedelta(seconds=5)
MAX_SUMMARY_CHARS = 1000
MAX_SPLIT_ALERTS = 500
"""Alerts one split may move (the case workflow hands them to the new case at once)."""


@dataclass(frozen=True)
class CommandSent:
    """Where a command went: the case, and the workflow that applies it (None when the
    case had ended and a note was written to its timeline directly)."""

    case: CaseDetail
    workflow_id: str | None


@dataclass(frozen=True)
class MergeSent:
    """A merge asked for: the case merged and the case it goes into. `already`: it had
    been merged there before, and nothing was sent."""

    case: CaseDetail
    into: str
    command_id: str
    already: bool = False


@dataclass(frozen=True)
class SplitSent:
    """A split asked for: the case the alerts leave, the alerts, and the workflow of the
    new case. `into` is the new case when a repeated request found it made already."""

    case: CaseDetail
    alert_ids: list[str]
    command_id: str
    workflow_id: str
    into: str | None = None


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
    if command.kind in INTERNAL_KINDS:
        raise ConflictError(f"a {command.kind.value} is asked for through its own operation")
    case = await find_case(store, case_id)
    if case.merged_into is not None:
        case = await find_case(store, await store.survivor_of(case.id))
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


async def merge_cases(
    client: Client,
    store: Repository,
    case_id: str,
    into: str,
    *,
    actor: str,
    reason: str | None = None,
) -> MergeSent:
    """Merge the case `case_id` into the open case `into`: every alert, timeline entry
    and open approval request of the first ends up under the second, both timelines
    record it, and the first closes pointing at the second (see `workflows/case.py`).

    A case merged already answers where it went (:attr:`MergeSent.already`); into
    another case than that, 409. Raises :class:`NotFoundError` for an unknown case,
    :class:`ConflictError` for a case merged into itself, an ended case on either
    side, or a survivor that was merged itself, and :class:`UnavailableError` when
    Temporal did not take it.
    """
    case = await find_case(store, case_id)
    wanted = into.strip()
    if case.merged_into is not None:
        where = await store.survivor_of(case.id)
        if wanted not in (case.merged_into, where):
            raise ConflictError(f"case {case.id} was merged into {where}")
        return MergeSent(case, where, merge_command_id(case.id, case.merged_into), already=True)
    if wanted == case.id:
        raise ConflictError(f"case {case.id} cannot be merged into itself")
    target = await find_case(store, wanted)
    if target.merged_into is not None:
        where = await store.survivor_of(target.id)
        raise ConflictError(f"case {target.id} was merged into {where}; merge into {where}")
    target_workflow = case_workflow_id(target.correlation_key)
    if not await _open(client, target_workflow, target.id):
        raise ConflictError(f"case {target.id} has ended; merge into an open case")
    command = CaseCommand(
        id=merge_command_id(case.id, target.id),
        kind=CaseCommandKind.MERGE,
        actor=actor,
        text=reason,
        data={"case_id": case.id, "into": target.id, "into_workflow_id": target_workflow},
    )
    await _send_to_open(client, case, command)
    return MergeSent(case, target.id, command.id)


async def split_case(
    client: Client,
    store: Repository,
    case_id: str,
    alert_ids: list[str],
    *,
    actor: str,
    reason: str | None = None,
) -> SplitSent:
    """Move the alerts `alert_ids` out of the open case `case_id` into a new case of
    their own (its own workflow, its correlation key derived from the case and the
    split); both timelines record it.

    Asking again once it is done answers with the new case (:attr:`SplitSent.into`).
    Raises :class:`NotFoundError` for an unknown case or alert, :class:`ConflictError`
    when an alert is on another case, when nothing would be left on the case, or when
    the case has ended or was merged, and :class:`UnavailableError` when Temporal did
    not take it.
    """
    case = await find_case(store, case_id)
    if case.merged_into is not None:
        where = await store.survivor_of(case.id)
        raise ConflictError(f"case {case.id} was merged into {where}; split it there")
    named = list(dict.fromkeys(a.strip() for a in alert_ids if a.strip()))
    if not named:
        raise ConflictError("name at least one alert to split out")
    if len(named) > MAX_SPLIT_ALERTS:
        raise ConflictError(f"a split moves at most {MAX_SPLIT_ALERTS} alerts")
    command_id = split_command_id(case.id, named)
    workflow_id = case_workflow_id(split_key(case.id, command_id))
    holders = await store.cases_of_alerts(named)
    unknown = next((a for a in named if a not in holders), None)
    if unknown is not None:
        raise NotFoundError(f"no alert with id {unknown!r}")
    stray = next((a for a in named if holders[a] != case.id), None)
    if stray is not None:
        made = await _split_made(store, case.id, command_id, {holders[a] for a in named})
        if made is not None:
            return SplitSent(case, named, command_id, workflow_id, into=made)
        raise ConflictError(f"alert {stray} is not on case {case.id}")
    if await store.count_case_alerts(case.id) <= len(named):
        raise ConflictError(
            f"a split leaves at least one alert on case {case.id}; merge or close it instead"
        )
    command = CaseCommand(
        id=command_id,
        kind=CaseCommandKind.SPLIT,
        actor=actor,
        text=reason,
        data={"case_id": case.id, "alert_ids": named},
    )
    await _send_to_open(client, case, command)
    return SplitSent(case, named, command_id, workflow_id)


async def _split_made(
    store: Repository, case_id: str, command_id: str, holders: set[str | None]
) -> str | None:
    """The case this very split opened, when every alert named is on it already."""
    if len(holders) != 1:
        return None
    [holder] = holders
    made = await store.get_case_detail(holder, alert_limit=0) if holder else None
    if made is None or made.correlation_key != split_key(case_id, command_id):
        return None
    return made.id


async def _open(client: Client, workflow_id: str, case_id: str) -> bool:
    """Whether the workflow is running and holds the case (see :func:`_holds_case`)."""
    try:
        return await _holds_case(client.get_workflow_handle(workflow_id), case_id)
    except RPCError as error:
        raise UnavailableError(f"Temporal did not answer: {error.message}") from error


async def _send_to_open(client: Client, case: CaseDetail, command: CaseCommand) -> None:
    """Signal the command to the case's workflow; :class:`ConflictError` when the case
    has ended."""
    workflow_id = case_workflow_id(case.correlation_key)
    if not await _open(client, workflow_id, case.id):
        raise ConflictError(ended(case.id))
    try:
        await client.get_workflow_handle(workflow_id).signal(
            COMMAND_SIGNAL, command, rpc_timeout=RPC_WAIT
        )
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise ConflictError(ended(case.id)) from error
        raise UnavailableError(f"Temporal did not take the command: {error.message}") from error


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

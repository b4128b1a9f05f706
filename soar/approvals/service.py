"""Deciding an approval, written once for the API, the Slack bot, the CLI and the test
harness.

A decision is the `decide` Workflow Update of the playbook's workflow. Its validator
checks, against configuration, whether the decision may be taken; a refusal comes back
in its own words and is written to the case's timeline here (the validator cannot, as it
must not touch history). The Update id is derived from the approval, the person and the
decision, so a retried call or a double click gets the first one's answer instead of
becoming a second decision. A request whose workflow has ended is refused with the same
words the validator would use ("already approved by alice at …").
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from soar.approvals.audit import record_refusal
from soar.approvals.models import (
    APPROVALS_QUERY,
    DECIDE_UPDATE,
    ApprovalRequest,
    DecisionRequest,
    DecisionResult,
    decision_update_id,
    settled_message,
)
from soar.errors import ConflictError, NotFoundError, TimedOutError, UnavailableError
from soar.store.repository import Repository

DECISION_WAIT = timedelta(seconds=15)
"""How long one call waits for the workflow to take a decision (a worker must be up)."""
QUERY_WAIT = timedelta(seconds=5)

NO_LONGER_OPEN = "approval is no longer open"
"""The refusal when the workflow has ended and the store does not say how it settled."""


class DecisionRefusedError(ConflictError):
    """The decision was not recorded; the message is the reason, also on the timeline."""


async def find_approval(store: Repository, approval_id: str) -> ApprovalRequest:
    """The stored request, or :class:`NotFoundError` saying which id is unknown."""
    approval = await store.get_approval(approval_id)
    if approval is None:
        raise NotFoundError(f"no approval with id {approval_id!r}")
    return approval


async def current_approval(client: Client, store: Repository, approval_id: str) -> ApprovalRequest:
    """The request as its workflow has it now (the `approvals` query), else as stored."""
    stored = await find_approval(store, approval_id)
    handle = client.get_workflow_handle(stored.workflow_id)
    try:
        live = await handle.query(
            APPROVALS_QUERY, result_type=list[ApprovalRequest], rpc_timeout=QUERY_WAIT
        )
    except (RPCError, WorkflowQueryFailedError):
        return stored
    return next((request for request in live if request.id == approval_id), stored)


async def decide(client: Client, store: Repository, request: DecisionRequest) -> DecisionResult:
    """Decide the request named by `request.approval_id`.

    Raises :class:`NotFoundError` for an unknown approval, :class:`DecisionRefusedError`
    when the decision may not be taken (recorded on the timeline), and
    :class:`UnavailableError` / :class:`TimedOutError` when Temporal did not answer.
    The stored request decides only what is settled for good; everything else is the
    validator's to judge, so a decision costs the workflow one round trip (the Update),
    not a query before it.
    """
    approval = await find_approval(store, request.approval_id)
    settled = settled_message(approval)
    if settled is not None:
        await refuse(store, approval, request, settled)
    return await send_decision(client, store, approval, request)


async def send_decision(
    client: Client,
    store: Repository,
    approval: ApprovalRequest,
    request: DecisionRequest,
    *,
    update_id: str | None = None,
) -> DecisionResult:
    """Send the `decide` Update to the approval's workflow; see :func:`decide`.

    `update_id` defaults to :func:`decision_update_id`; a test gives another to play a
    second, distinct click by the same person."""
    handle = client.get_workflow_handle(approval.workflow_id)
    try:
        result: DecisionResult = await handle.execute_update(
            DECIDE_UPDATE,
            request,
            id=update_id or decision_update_id(request),
            result_type=DecisionResult,
            rpc_timeout=DECISION_WAIT,
        )
        return result
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        message = getattr(cause, "message", None) or str(cause) or "the decision was refused"
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        raise TimedOutError(
            "the approval's workflow did not answer in time (is a worker running?); "
            "the decision may still be applied, and sending it again is safe"
        ) from error
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise UnavailableError(
                f"Temporal did not take the decision: {error.message}"
            ) from error
        message = settled_message(approval) or NO_LONGER_OPEN
    await refuse(store, approval, request, message)


async def refuse(
    store: Repository, approval: ApprovalRequest, request: DecisionRequest, message: str
) -> NoReturn:
    """Record the refused attempt on the case's timeline, then raise it."""
    await record_refusal(store, approval, request, message)
    raise DecisionRefusedError(message)

"""Sending a decision from Slack: the same `decide` Update the API and the CLI send.

The playbook's validator decides, against configuration, whether the decision may be
taken; a refusal comes back in its own words and is written to the case's timeline
(the validator cannot, as it must not touch history). The Update id is derived from the
approval, the person and the decision, so a retried or double click is answered with
the first click's result instead of becoming a second decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from soar.approvals.audit import record_refusal
from soar.approvals.models import (
    DECIDE_UPDATE,
    ApprovalRequest,
    ApprovalState,
    DecisionRequest,
    DecisionResult,
    decision_update_id,
)
from soar.store.db import Store
from workflows.sdk.models import APPROVALS_QUERY

DECISION_WAIT = timedelta(seconds=15)
QUERY_WAIT = timedelta(seconds=5)


class DecisionUnavailable(Exception):
    """Temporal did not answer; the decision may or may not be applied, and sending it
    again is safe."""


@dataclass(frozen=True)
class DecisionOutcome:
    """An accepted decision's result, or the reason it was refused."""

    result: DecisionResult | None = None
    refusal: str | None = None


def no_longer_open(approval: ApprovalRequest) -> str:
    """Why a decision cannot reach a request whose workflow has ended, worded as the
    validator words it while the workflow runs ("already approved by alice at …")."""
    if approval.state is ApprovalState.PENDING:
        return "approval is no longer open"
    message = f"already {approval.state.value}"
    if approval.settled_by and approval.settled_by != "system":
        message += f" by {approval.settled_by}"
    if approval.settled_at:
        message += f" at {approval.settled_at:%Y-%m-%dT%H:%M:%SZ}"
    return message


def rejection_message(error: WorkflowUpdateFailedError) -> str:
    """The validator's message, carried by the failure that caused the rejection."""
    cause = error.cause
    return getattr(cause, "message", None) or str(cause) or "the decision was refused"


async def send_decision(
    temporal: Client, store: Store, approval: ApprovalRequest, request: DecisionRequest
) -> DecisionOutcome:
    """Send the decision; a refusal is recorded on the case's timeline and returned."""
    handle = temporal.get_workflow_handle(approval.workflow_id)
    try:
        result = await handle.execute_update(
            DECIDE_UPDATE,
            request,
            id=decision_update_id(request),
            result_type=DecisionResult,
            rpc_timeout=DECISION_WAIT,
        )
        return DecisionOutcome(result=result)
    except WorkflowUpdateFailedError as error:
        message = rejection_message(error)
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        raise DecisionUnavailable(
            "the approval's workflow did not answer in time; the decision may still be "
            "applied, and clicking again is safe"
        ) from error
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise DecisionUnavailable(
                f"Temporal did not take the decision: {error.message}"
            ) from error
        message = no_longer_open(approval)
    await record_refusal(store, approval, request, message)
    return DecisionOutcome(refusal=message)


async def current_approval(
    temporal: Client, store: Store, approval_id: str
) -> ApprovalRequest | None:
    """The request as its workflow has it now (the `approvals` query), else as stored."""
    stored = await store.get_approval(approval_id)
    if stored is None:
        return None
    handle = temporal.get_workflow_handle(stored.workflow_id)
    try:
        live = await handle.query(
            APPROVALS_QUERY, result_type=list[ApprovalRequest], rpc_timeout=QUERY_WAIT
        )
    except (RPCError, WorkflowQueryFailedError):
        return stored
    return next((request for request in live if request.id == approval_id), stored)

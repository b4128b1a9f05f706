"""The audit of refused decisions.

A Workflow Update validator rejects a decision without touching history, which is the
point (a refused click must not grow the workflow), so the workflow cannot record the
refusal itself. The client that sent the decision — API, CLI or Slack bot — records it
here instead, with who tried what, when, and the validator's words.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Protocol

from soar.approvals.models import ApprovalRequest, DecisionRequest
from soar.cases.models import TimelineEvent, TimelineKind

MAX_SUMMARY_CHARS = 1000


class TimelineWriter(Protocol):
    """What a refusal needs of the store: :class:`soar.store.repository.Repository` fits."""

    async def add_timeline_event(self, event: TimelineEvent) -> None: ...


def refusal_event_id(approval_id: str, request: DecisionRequest, message: str) -> str:
    """Deterministic: the same refused attempt, retried, is recorded once."""
    digest = hashlib.sha256(message.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{approval_id}:refused:{request.user}:{request.decision.value}:{digest}"


def refusal_event(
    approval: ApprovalRequest, request: DecisionRequest, message: str, *, at: datetime
) -> TimelineEvent:
    """The timeline entry of a refused decision: who tried what, and why it was refused."""
    what = f"{approval.action} {approval.target}"
    summary = f"{request.user} tried to {request.decision.value} {what}: refused, {message}"
    return TimelineEvent(
        id=refusal_event_id(approval.id, request, message),
        case_id=approval.case_id,
        at=at,
        kind=TimelineKind.APPROVAL_REFUSED,
        actor=request.user,
        summary=summary[:MAX_SUMMARY_CHARS],
        reason=request.reason,
        data={
            "approval_id": approval.id,
            "decision": request.decision.value,
            "message": message,
            "workflow_id": approval.workflow_id,
        },
    )


async def record_refusal(
    store: TimelineWriter, approval: ApprovalRequest, request: DecisionRequest, message: str
) -> None:
    """Write a refused decision to the case's timeline (kind `approval_refused`)."""
    await store.add_timeline_event(refusal_event(approval, request, message, at=datetime.now(UTC)))

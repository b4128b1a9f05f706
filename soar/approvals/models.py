"""Approval requests and the decisions people make on them.

The playbook's workflow owns a pending :class:`ApprovalRequest`; decisions reach it as
a Temporal Update named after :attr:`ApprovalRequest.workflow_id`, and snapshots of the
request go to the case store. Plain data only, so the models travel through the
pydantic data converter unchanged.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from soar.cases.models import UtcDatetime


class ApprovalState(StrEnum):
    """`pending` until settled; every other state is final."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class DecisionKind(StrEnum):
    APPROVE = "approve"
    DENY = "deny"


class Decision(BaseModel):
    """One person's answer to one request; at most one per person and request."""

    approval_id: str = Field(min_length=1)
    decision: DecisionKind
    user: str = Field(min_length=1)
    reason: str | None = None
    at: UtcDatetime


class ApprovalRequest(BaseModel):
    """A risky step waiting for `quorum` distinct approvals from the allowed deciders.

    `deciders` holds user ids and `group:<name>` / `role:<name>` references, resolved
    against the configuration when a decision is validated, so a change of team takes
    effect without touching running workflows. `settled_by` is the user whose decision
    settled the request, or `"system"` when it expired or was cancelled.
    """

    id: str = Field(min_length=1)
    case_id: str = Field(min_length=1)
    workflow_id: str = Field(min_length=1, description="The workflow that takes the Update.")
    playbook: str
    action: str = Field(description='What will be done, for example "deny".')
    target: str = Field(description='What it will be done to, for example "203.0.113.7".')
    reason: str
    blast_radius: str = Field(description="What else the action can affect, in plain words.")
    deciders: list[str] = Field(min_length=1)
    quorum: int = Field(default=1, ge=1)
    requested_by: str
    requested_at: UtcDatetime
    forbid_self_approval: bool = True
    expires_at: UtcDatetime
    state: ApprovalState = ApprovalState.PENDING
    decisions: list[Decision] = Field(default_factory=list)
    settled_at: UtcDatetime | None = None
    settled_by: str | None = None


DECIDE_UPDATE = "decide"
"""The name of the Workflow Update every client (CLI, API, Slack) sends a decision as."""

APPROVALS_QUERY = "approvals"
"""The playbook workflow's query: its approval requests, pending and settled."""


class DecisionRequest(BaseModel):
    """What a client sends as the `decide` Update. Authority is checked by the workflow's
    validator against configuration, never inferred from who could send this."""

    approval_id: str = Field(min_length=1)
    decision: DecisionKind
    user: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)


class DecisionResult(BaseModel):
    """The answer to an accepted decision: where the request stands now."""

    approval_id: str
    state: ApprovalState
    approvals: int
    quorum: int
    message: str
    request: ApprovalRequest | None = Field(
        default=None,
        description="The request as the workflow has it after the decision, so a caller "
        "can show it without asking again (unset in answers from before it was added).",
    )


def quoted_time(at: datetime) -> str:
    """A time as decisions and refusals quote it: `2026-01-01T12:00:00Z`."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def settled_message(request: ApprovalRequest) -> str | None:
    """Why a settled request takes no more decisions ("already approved by alice at …"),
    or None while it is pending. The one wording of every client and the workflow."""
    if request.state is ApprovalState.PENDING:
        return None
    at = quoted_time(request.settled_at) if request.settled_at else "an earlier time"
    if request.state is ApprovalState.APPROVED:
        approvers = [d.user for d in request.decisions if d.decision is DecisionKind.APPROVE]
        return f"already approved by {', '.join(approvers) or request.settled_by} at {at}"
    if request.state is ApprovalState.DENIED:
        return f"already denied by {request.settled_by} at {at}"
    if request.state is ApprovalState.EXPIRED:
        return f"expired at {at}"
    return f"cancelled at {at}"


def decision_update_id(request: DecisionRequest) -> str:
    """A deterministic Update id, so a retried call (or a double click) is harmless."""
    return f"decide:{request.approval_id}:{request.user}:{request.decision.value}"


class ApprovalSettings(BaseModel):
    """Who may decide, by name, group or role; resolved when a request is made.

    `deciders` is the default list for requests that name none. A request naming
    `group:soc-leads` resolves through `groups`, `role:responder` through `roles`.
    An empty resolution refuses every decision (secure by default).
    """

    deciders: list[str] = Field(default_factory=list)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    roles: dict[str, list[str]] = Field(default_factory=dict)
    forbid_self_approval: bool = True
    expiry_seconds: int = Field(default=3600, ge=1)
    on_expiry: str = Field(default="escalate", pattern="^(escalate|stop)$")

    def resolve(self, references: list[str]) -> list[str]:
        """User ids for `user`, `group:<name>` and `role:<name>` references."""
        users: list[str] = []
        for reference in references or self.deciders:
            kind, _, name = reference.partition(":")
            if kind == "group" and name:
                users += self.groups.get(name, [])
            elif kind == "role" and name:
                users += self.roles.get(name, [])
            else:
                users.append(reference)
        return list(dict.fromkeys(users))

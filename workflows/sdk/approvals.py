"""The approval requests of one playbook run, and the rules for deciding on them.

Pure and deterministic: the `decide` Update's validator and its handler both ask
:meth:`ApprovalBook.refusal`, the handler then applies the decision with
:meth:`ApprovalBook.decide`. Keeping the rules here, in one place, is what makes the
validator (which runs before history is touched) and the handler (which re-checks,
because two Updates can both pass validation before either handler runs) agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from soar.approvals.models import (
        ApprovalRequest,
        ApprovalState,
        Decision,
        DecisionKind,
        DecisionRequest,
        DecisionResult,
        quoted_time,
        settled_message,
    )
    from soar.containment.models import ContainmentCommand


class DecisionRefused(ApplicationError):
    """A decision the rules do not allow; the message says why, for the person deciding."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="DecisionRefused", non_retryable=True)


@dataclass
class Entry:
    """One request, the users allowed to decide it, and the command it covers."""

    request: ApprovalRequest
    allowed: frozenset[str]
    command: ContainmentCommand | None = None

    @property
    def approvers(self) -> list[str]:
        return [d.user for d in self.request.decisions if d.decision is DecisionKind.APPROVE]


class ApprovalBook:
    """Every approval request of a playbook run, by id, in the order they were made."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def open(
        self,
        request: ApprovalRequest,
        allowed: list[str],
        command: ContainmentCommand | None = None,
    ) -> None:
        """Add a pending request that `allowed` users may decide."""
        self._entries[request.id] = Entry(request, frozenset(allowed), command)

    def get(self, approval_id: str) -> Entry:
        return self._entries[approval_id]

    def requests(self) -> list[ApprovalRequest]:
        return [entry.request for entry in self._entries.values()]

    def refusal(self, decision: DecisionRequest, now: datetime) -> str | None:
        """Why this decision may not be taken now, or `None` when it may."""
        entry = self._entries.get(decision.approval_id)
        if entry is None:
            return f"no approval request {decision.approval_id} is open in this playbook"
        request, user = entry.request, decision.user
        settled = _settled(entry)
        if settled is not None:
            return settled
        if now >= request.expires_at:
            return f"expired at {quoted_time(request.expires_at)}"
        if user not in entry.allowed:
            return f"{user} is not allowed to decide on this request"
        if (
            decision.decision is DecisionKind.APPROVE
            and request.forbid_self_approval
            and user == request.requested_by
        ):
            return f"{user} requested this action and may not approve it"
        earlier = next((d for d in request.decisions if d.user == user), None)
        if earlier is not None:
            count = f"{len(entry.approvers)} of {request.quorum} approvals so far"
            done = f"{_past(earlier.decision)} this request at {quoted_time(earlier.at)}"
            return f"{user} already {done}; {count}"
        return None

    def decide(self, decision: DecisionRequest, now: datetime) -> tuple[Entry, DecisionResult]:
        """Apply a decision that :meth:`refusal` allows. A deny settles the request as
        denied; the `quorum`-th distinct approval settles it as approved."""
        entry = self._entries[decision.approval_id]
        request = entry.request
        decisions = [
            *request.decisions,
            Decision(
                approval_id=request.id,
                decision=decision.decision,
                user=decision.user,
                reason=decision.reason,
                at=now,
            ),
        ]
        approvals = sum(d.decision is DecisionKind.APPROVE for d in decisions)
        update: dict[str, object] = {"decisions": decisions}
        if decision.decision is DecisionKind.DENY:
            update |= {
                "state": ApprovalState.DENIED,
                "settled_at": now,
                "settled_by": decision.user,
            }
            message = f"denied by {decision.user}"
        elif approvals >= request.quorum:
            update |= {
                "state": ApprovalState.APPROVED,
                "settled_at": now,
                "settled_by": decision.user,
            }
            message = f"approved ({approvals} of {request.quorum}): {request.action} goes ahead"
        else:
            message = f"approval {approvals} of {request.quorum} recorded; waiting for more"
        entry.request = request.model_copy(update=update)
        result = DecisionResult(
            approval_id=request.id,
            state=entry.request.state,
            approvals=approvals,
            quorum=request.quorum,
            message=message,
            request=entry.request,
        )
        return entry, result

    def expire(self, approval_id: str, now: datetime) -> Entry:
        """Settle a request nobody decided in time as `expired`."""
        return self._settle(approval_id, ApprovalState.EXPIRED, now)

    def cancel_pending(self, now: datetime) -> list[Entry]:
        """Settle every request still open as `cancelled` (the run is being cancelled)."""
        return [
            self._settle(approval_id, ApprovalState.CANCELLED, now)
            for approval_id, entry in self._entries.items()
            if entry.request.state is ApprovalState.PENDING
        ]

    def _settle(self, approval_id: str, state: ApprovalState, now: datetime) -> Entry:
        entry = self._entries[approval_id]
        entry.request = entry.request.model_copy(
            update={"state": state, "settled_at": now, "settled_by": "system"}
        )
        return entry


def _past(kind: DecisionKind) -> str:
    return "approved" if kind is DecisionKind.APPROVE else "denied"


def _settled(entry: Entry) -> str | None:
    """ "already approved by U1 at T" and the like, for a request that is no longer open."""
    return settled_message(entry.request)

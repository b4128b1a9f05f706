"""The approval step: ask people to approve a risky step, and wait for the decision.

Guardrails first (nobody is asked to approve what would be refused), then the policy
from the configuration (who may decide, the defaults), then the request is recorded and
the case marked as waiting *before* the request is opened to decisions, so the timeline
never shows a decision ahead of its request. The wait is a durable timer; a request
nobody answers in time ends `expired` and takes the configured path. Once the request is
settled, whichever way, the case is no longer waiting: it goes back to `triaged` (and on
to `contained` when a containment takes effect).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from soar.approvals.models import ApprovalRequest, ApprovalState, quoted_time
    from soar.cases.models import CaseCommandKind, CaseState, TimelineKind
    from soar.containment.activities import ContainmentActivities, describe
    from soar.containment.models import ContainmentCommand
    from workflows.sdk.models import (
        APPROVAL_POLICY,
        ApprovalOutcome,
        ApprovalPolicy,
        OnExpiry,
        PlaybookInput,
    )

from workflows.sdk.approvals import ApprovalBook
from workflows.sdk.recorder import Recorder

LOOKUP_TIMEOUT = timedelta(seconds=30)
LOOKUP_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=10)
SHOW_WHEN_OPEN = "show-approval-when-open"
"""Patch id: runs recorded before an approval was shown only once open replay without."""
ASKED_AT_ONCE = "approval-asked-at-once"
"""Patch id: the guardrails and the policy are looked up at once, and the request's
record, its timeline entry and the case's "waiting" state are written at once (each
step one round trip, not one per lookup or write); runs recorded before replay one
after the other."""


class ApprovalStep:
    """Makes approval requests for one playbook run, into its :class:`ApprovalBook`."""

    def __init__(self, input: PlaybookInput, recorder: Recorder, book: ApprovalBook) -> None:
        self.input = input
        self._recorder = recorder
        self._book = book

    async def request(
        self,
        action: str,
        target: str,
        reason: str,
        blast_radius: str,
        *,
        deciders: list[str] | None,
        quorum: int,
        expiry_seconds: int | None,
        command: ContainmentCommand | None,
    ) -> ApprovalOutcome:
        """See :meth:`workflows.sdk.context.PlaybookContext.request_approval`."""
        at_once = workflow.patched(ASKED_AT_ONCE)
        if at_once:
            refused, policy = await asyncio.gather(
                self._guardrail_refusal(command), self._policy(deciders)
            )
            if refused is not None:
                return refused
        else:
            refused = await self._guardrail_refusal(command)
            if refused is not None:
                return refused
            policy = await self._policy(deciders)
        if not policy.deciders:
            detail = f"nobody is configured to decide on {action} {target} (approvals.deciders)"
            await self._recorder.handoff(detail, {"action": action, "target": target})
            return ApprovalOutcome(
                approval_id=None, state=ApprovalState.CANCELLED, detail=detail, command=command
            )
        forbid_self = _first_set(self.input.forbid_self_approval, policy.forbid_self_approval)
        able = [d for d in policy.deciders if not (forbid_self and d == self.input.requested_by)]
        if len(able) < quorum:
            detail = (
                f"{action} {target} needs {quorum} approvals but only {len(able)} "
                f"{'person' if len(able) == 1 else 'people'} may decide on it"
            )
            await self._recorder.handoff(detail, {"action": action, "target": target})
            return ApprovalOutcome(
                approval_id=None, state=ApprovalState.CANCELLED, detail=detail, command=command
            )
        request = self._new_request(
            action,
            target,
            reason,
            blast_radius,
            deciders=deciders or policy.deciders,
            quorum=quorum,
            expiry_seconds=expiry_seconds or self.input.expiry_seconds or policy.expiry_seconds,
            forbid_self_approval=forbid_self,
        )
        await self._announce(request, policy.deciders, command, at_once=at_once)
        return await self._await_decision(request.id, self.input.on_expiry or policy.on_expiry)

    async def _policy(self, deciders: list[str] | None) -> ApprovalPolicy:
        """The configured approval policy, with `deciders` (or the configured ones)."""
        policy: ApprovalPolicy = await workflow.execute_activity(
            APPROVAL_POLICY,
            deciders or [],
            result_type=ApprovalPolicy,
            start_to_close_timeout=LOOKUP_TIMEOUT,
            retry_policy=LOOKUP_RETRY,
        )
        return policy

    async def _guardrail_refusal(
        self, command: ContainmentCommand | None
    ) -> ApprovalOutcome | None:
        """The outcome of a command the guardrails refuse (said on the timeline), else
        None (also when the request covers no command)."""
        if command is None:
            return None
        guardrail = await workflow.execute_activity_method(
            ContainmentActivities.check_guardrails,
            command,
            start_to_close_timeout=LOOKUP_TIMEOUT,
            retry_policy=LOOKUP_RETRY,
        )
        if guardrail.allowed:
            return None
        await self._recorder.event(
            TimelineKind.GUARDRAIL_REFUSED,
            f"Guardrail refused {describe(command)}; no approval was requested",
            reason=guardrail.reason,
            data={"rule": guardrail.rule, "command": command.model_dump(mode="json")},
        )
        return ApprovalOutcome(
            approval_id=None,
            state=ApprovalState.CANCELLED,
            detail=guardrail.reason,
            command=command,
            guardrail=guardrail,
        )

    def _new_request(
        self,
        action: str,
        target: str,
        reason: str,
        blast_radius: str,
        *,
        deciders: list[str],
        quorum: int,
        expiry_seconds: int,
        forbid_self_approval: bool,
    ) -> ApprovalRequest:
        now = workflow.now()
        return ApprovalRequest(
            id=approval_id(self._recorder.next_id()),
            case_id=self.input.case_id,
            workflow_id=workflow.info().workflow_id,
            playbook=self.input.playbook,
            action=action,
            target=target,
            reason=reason,
            blast_radius=blast_radius,
            deciders=deciders,
            quorum=quorum,
            requested_by=self.input.requested_by,
            requested_at=now,
            forbid_self_approval=forbid_self_approval,
            expires_at=now + timedelta(seconds=expiry_seconds),
        )

    async def _announce(
        self,
        request: ApprovalRequest,
        allowed: list[str],
        command: ContainmentCommand | None,
        *,
        at_once: bool,
    ) -> None:
        """Record the request, put it on the timeline and mark the case as waiting (`at_once`:
        the three together), open the request for decisions, and only then show it to the
        deciders, where it can be clicked.

        Runs recorded before `SHOW_WHEN_OPEN` showed it at once, so a fast click could
        find the request not open yet; they replay as they ran."""
        shown_when_open = workflow.patched(SHOW_WHEN_OPEN)
        writes = [
            self._recorder.approval(request, show=not shown_when_open),
            self._requested_entry(request, command),
            self._recorder.command(
                CaseCommandKind.SET_STATE,
                state=CaseState.AWAITING_DECISION,
                text=f"waiting for a decision on {request.action} {request.target}",
            ),
        ]
        if at_once:
            await asyncio.gather(*writes)
        else:
            for write in writes:
                await write
        self._book.open(request, allowed, command)
        if shown_when_open:
            self._recorder.show_approval(request)

    async def _requested_entry(
        self, request: ApprovalRequest, command: ContainmentCommand | None
    ) -> None:
        """The timeline entry that says the approval was requested."""
        needed = f"{request.quorum} approval(s) from {', '.join(request.deciders)}"
        await self._recorder.event(
            TimelineKind.APPROVAL_REQUESTED,
            f"Approval requested: {request.action} {request.target}; "
            f"{needed} before {quoted_time(request.expires_at)}",
            actor=request.requested_by,
            reason=request.reason,
            data={
                "approval_id": request.id,
                "blast_radius": request.blast_radius,
                "deciders": request.deciders,
                "quorum": request.quorum,
                "expires_at": request.expires_at.isoformat(),
                "command": command.model_dump(mode="json") if command else None,
            },
        )

    async def _await_decision(self, approval_id: str, on_expiry: OnExpiry) -> ApprovalOutcome:
        """Wait for the request to settle or expire; then, once the decision that settled
        it is on the timeline, move the case on."""
        entry = self._book.get(approval_id)
        wait = entry.request.expires_at - workflow.now()
        if wait > timedelta(0):
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: entry.request.state is not ApprovalState.PENDING, timeout=wait
                )
        if entry.request.state is ApprovalState.PENDING:
            await self._expire(approval_id, on_expiry)
        await workflow.wait_condition(workflow.all_handlers_finished)
        request = entry.request
        what = f"{request.action} {request.target}"
        if request.state is ApprovalState.APPROVED:
            detail = f"{what} approved by {', '.join(entry.approvers)}"
        elif request.state is ApprovalState.DENIED:
            detail = f"{what} denied by {request.settled_by}"
        else:
            detail = f"{what} expired at {quoted_time(request.expires_at)} without a decision"
        await self._recorder.command(
            CaseCommandKind.SET_STATE, state=CaseState.TRIAGED, text=detail
        )
        return ApprovalOutcome(
            approval_id=request.id,
            state=request.state,
            detail=detail,
            command=entry.command,
            decisions=list(request.decisions),
        )

    async def _expire(self, approval_id: str, path: OnExpiry) -> None:
        entry = self._book.expire(approval_id, workflow.now())
        request = entry.request
        what = f"{request.action} {request.target}"
        await self._recorder.approval(request)
        await self._recorder.event(
            TimelineKind.APPROVAL_EXPIRED,
            f"Approval of {what} expired at {quoted_time(request.expires_at)} without a decision",
            actor="system",
            reason=f"on expiry: {path}",
            data={"approval_id": request.id, "on_expiry": path},
        )
        if path == "escalate":
            await self._recorder.command(
                CaseCommandKind.ESCALATE,
                text=f"nobody decided on {what} in time; a person must decide",
                data={"approval_id": request.id},
            )


def approval_id(step_id: str) -> str:
    """A URL-safe approval id derived from the step's deterministic id."""
    return "apr-" + hashlib.sha256(step_id.encode()).hexdigest()[:24]


def _first_set(override: bool | None, configured: bool) -> bool:
    return configured if override is None else override

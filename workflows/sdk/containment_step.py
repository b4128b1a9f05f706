"""The containment steps: apply a command through the actuators, verify it, revert it.

The containment activities decide what happens (guardrails again, dry-run, which
actuator); these steps record each outcome on the timeline and in the store, mark the
case contained when something is in effect, and hand the case to a person when no
actuator could do it. An action with a time-to-live gets a workflow of its own that
reverts it when the time is up (see :mod:`workflows.sdk.expiry`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from soar.cases.models import CaseCommandKind, CaseState, TimelineKind
    from soar.containment.activities import ContainmentActivities, ContainmentRequest, describe
    from soar.containment.models import ActionState, ContainmentAction, ContainmentCommand
    from workflows.sdk.models import (
        CONTAINMENT_EXPIRY_WORKFLOW,
        ApprovalOutcome,
        ExpiryInput,
        expiry_workflow_id,
    )

from workflows.sdk.recorder import Recorder

CONTAINMENT_TIMEOUT = timedelta(minutes=2)
CONTAINMENT_HEARTBEAT = timedelta(seconds=15)
"""A containment activity heartbeats every 5 s while an actuator works; a worker that
dies mid-call is noticed after this, and the action retried on another worker."""
CONTAINMENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)
HANDOFF = frozenset({ActionState.NO_ACTUATOR, ActionState.FAILED})
IN_EFFECT = frozenset({ActionState.APPLIED, ActionState.VERIFIED})
REVERT_AT_EXPIRY = "revert-at-expiry"
"""Patch id: runs recorded before containments expired by themselves replay without."""


class PlaybookError(ApplicationError):
    """A playbook misused a step (for example contained without the approval it needed)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="PlaybookError", non_retryable=True)


class ContainmentSteps:
    """Containment for one playbook run, in dry-run when the run is."""

    def __init__(self, case_id: str, recorder: Recorder, *, dry_run: bool) -> None:
        self.case_id = case_id
        self.dry_run = dry_run
        self._recorder = recorder
        self._expiring: set[str] = set()

    async def contain(
        self, command: ContainmentCommand, approval: ApprovalOutcome | None
    ) -> ContainmentAction:
        """See :meth:`workflows.sdk.context.PlaybookContext.contain`."""
        self._check_approval(command, approval)
        action_id = self._recorder.next_id()
        request = ContainmentRequest(
            action_id=action_id,
            case_id=self.case_id,
            command=command,
            approval_id=approval.approval_id if approval else None,
            requested_at=workflow.now(),
            dry_run=self.dry_run,
        )
        try:
            action = await workflow.execute_activity_method(
                ContainmentActivities.apply_containment,
                request,
                start_to_close_timeout=CONTAINMENT_TIMEOUT,
                heartbeat_timeout=CONTAINMENT_HEARTBEAT,
                retry_policy=CONTAINMENT_RETRY,
            )
        except ActivityError as error:
            action = ContainmentAction(
                id=action_id,
                case_id=self.case_id,
                command=command,
                approval_id=request.approval_id,
                state=ActionState.FAILED,
                detail=f"could not {describe(command)}: {error.cause or error}",
                created_at=request.requested_at,
            )
        await self._recorder.action(action)
        await self._record_containment(action)
        if (
            action.state in IN_EFFECT
            and action.expires_at is not None
            and workflow.patched(REVERT_AT_EXPIRY)
        ):
            await self._schedule_expiry(action)
        return action

    async def _schedule_expiry(self, action: ContainmentAction) -> None:
        """Start the workflow that reverts the action when its time-to-live is up."""
        await workflow.start_child_workflow(
            CONTAINMENT_EXPIRY_WORKFLOW,
            ExpiryInput(playbook=self._recorder.input, action=action),
            id=expiry_workflow_id(action.id),
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        self._expiring.add(action.id)

    async def verify(self, action: ContainmentAction) -> ContainmentAction:
        """Ask the actuator whether an applied action is in effect."""
        checked = await workflow.execute_activity_method(
            ContainmentActivities.verify_containment,
            action,
            start_to_close_timeout=CONTAINMENT_TIMEOUT,
            heartbeat_timeout=CONTAINMENT_HEARTBEAT,
            retry_policy=CONTAINMENT_RETRY,
        )
        what = describe(action.command)
        await self._recorder.action(checked)
        if checked.state is ActionState.DRY_RUN:
            await self._recorder.event(
                TimelineKind.DRY_RUN, f"Dry run: would verify {what}", data=action_data(checked)
            )
            return checked
        if checked.state is ActionState.VERIFIED:
            summary = f"Verified: {what} is in effect"
        else:
            summary = f"Not verified: {what} ({checked.state.value})"
        await self._recorder.event(
            TimelineKind.CONTAINMENT, summary, reason=checked.detail, data=action_data(checked)
        )
        return checked

    async def revert(self, action: ContainmentAction, why: str | None = None) -> ContainmentAction:
        """Undo an applied action (a revoke cannot be undone; the timeline says so), and
        cancel its expiry: there is nothing left to revert."""
        if action.id in self._expiring:
            self._expiring.discard(action.id)
            expiry = workflow.get_external_workflow_handle(expiry_workflow_id(action.id))
            try:
                await expiry.cancel()
            except FailureError as error:
                workflow.logger.info("expiry of %s already over: %s", action.id, error)
        reverted = await workflow.execute_activity_method(
            ContainmentActivities.revert_containment,
            action,
            start_to_close_timeout=CONTAINMENT_TIMEOUT,
            heartbeat_timeout=CONTAINMENT_HEARTBEAT,
            retry_policy=CONTAINMENT_RETRY,
        )
        what = describe(action.command)
        await self._recorder.action(reverted)
        if reverted.state is ActionState.DRY_RUN:
            await self._recorder.event(
                TimelineKind.DRY_RUN, f"Dry run: would revert {what}", data=action_data(reverted)
            )
            return reverted
        done = "Reverted" if reverted.state is ActionState.REVERTED else "Not reverted"
        await self._recorder.event(
            TimelineKind.CONTAINMENT,
            f"{done}: {what}",
            reason="; ".join(part for part in (why, reverted.detail) if part) or None,
            data=action_data(reverted),
        )
        return reverted

    @staticmethod
    def _check_approval(command: ContainmentCommand, approval: ApprovalOutcome | None) -> None:
        if approval is None:
            return
        if not approval.approved:
            raise PlaybookError(
                f"cannot {describe(command)}: the approval ended {approval.state.value}"
            )
        if approval.command is not None and approval.command.target != command.target:
            raise PlaybookError(
                f"cannot {describe(command)}: the approval is for "
                f"{approval.command.target.value}, not {command.target.value}"
            )

    async def _record_containment(self, action: ContainmentAction) -> None:
        what = describe(action.command)
        data = action_data(action)
        if action.state is ActionState.DRY_RUN:
            await self._recorder.event(TimelineKind.DRY_RUN, action.detail or what, data=data)
        elif action.state is ActionState.REFUSED:
            await self._recorder.event(
                TimelineKind.GUARDRAIL_REFUSED,
                f"Guardrail refused {what}",
                reason=action.detail,
                data=data,
            )
        elif action.state in HANDOFF:
            await self._recorder.handoff(action.detail or f"{what}: {action.state.value}", data)
        else:
            await self._recorder.event(
                TimelineKind.CONTAINMENT,
                f"{what}: {action.state.value}",
                reason=action.detail,
                data=data,
            )
            await self._recorder.command(
                CaseCommandKind.SET_STATE, state=CaseState.CONTAINED, text=f"{what} is in effect"
            )


def action_data(action: ContainmentAction) -> dict[str, Any]:
    """What the timeline keeps of an action."""
    return {
        "action_id": action.id,
        "state": action.state.value,
        "actuator": action.actuator,
        "approval_id": action.approval_id,
        "command": action.command.model_dump(mode="json"),
    }

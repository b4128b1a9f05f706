"""Reverting a containment action because a person asked: the one way it is done, from
the expiry workflow that owns the action (its `revert_now` Update) or from the small
`<action id>/revert` workflow for an action no expiry workflow owns.

Either way the actuators undo it through the `revert_containment` activity, the action
is stored as it ended, the timeline says "<user> reverted <what>: <reason>" under the
person's name (shown in the case's thread), and, when nothing else of the case is in
force, the case is told it is no longer contained.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from soar.cases.contract import COMMAND_SIGNAL
    from soar.cases.models import (
        CaseCommand,
        CaseCommandKind,
        CaseState,
        TimelineEvent,
        TimelineKind,
    )
    from soar.containment.activities import ContainmentActivities, describe
    from soar.containment.contract import CONTAINMENT_REVERT_WORKFLOW, RevertInput, RevertRequest
    from soar.containment.models import ActionState, ContainmentAction
    from soar.store.activities import StoreActivities

from workflows.notifications import Outbox
from workflows.sdk.containment_step import CONTAINMENT_RETRY, CONTAINMENT_TIMEOUT, action_data
from workflows.sdk.recorder import MAX_SUMMARY_CHARS, STORE_RETRY, STORE_TIMEOUT


class RevertRefused(ApplicationError):
    """A revert the action's state does not allow now; the message says why, in
    :func:`soar.containment.contract.cannot_revert`'s words."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="RevertRefused", non_retryable=True)


async def revert_for_person(
    action: ContainmentAction, request: RevertRequest, case_workflow_id: str, outbox: Outbox
) -> ContainmentAction:
    """Undo `action` for `request.user` and record it; see the module docstring. An
    actuator that cannot undo it leaves the action as it was, and the timeline says why.

    The thread reply is queued in `outbox`, which the caller sends before it ends: the
    person's answer does not wait for a notification channel. `case_workflow_id` is the
    case to tell (empty: a playbook run on its own, with no case workflow)."""
    what = describe(action.command)
    try:
        reverted = await workflow.execute_activity_method(
            ContainmentActivities.revert_containment,
            action,
            start_to_close_timeout=CONTAINMENT_TIMEOUT,
            retry_policy=CONTAINMENT_RETRY,
        )
    except ActivityError as error:
        reverted = action.model_copy(
            update={"detail": f"could not revert {what}: {error.cause or error}"}
        )
    await workflow.execute_activity_method(
        StoreActivities.record_action,
        reverted,
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    done = reverted.state is ActionState.REVERTED
    # One id per attempt: a person may try again after an actuator could not undo it.
    step = f"{workflow.info().workflow_id}:{workflow.uuid4().hex[:12]}"
    summary = (
        f"{request.user} reverted {what}: {request.reason}"
        if done
        else f"{request.user} asked to revert {what} ({request.reason}); it was not reverted"
    )
    event = TimelineEvent(
        id=f"{step}:reverted",
        case_id=action.case_id,
        at=workflow.now(),
        kind=TimelineKind.CONTAINMENT,
        actor=request.user,
        summary=summary[:MAX_SUMMARY_CHARS],
        reason=reverted.detail,
        data={**action_data(reverted), "requested_by": request.user, "why": request.reason},
    )
    await workflow.execute_activity_method(
        StoreActivities.record_timeline_event,
        event,
        start_to_close_timeout=STORE_TIMEOUT,
        retry_policy=STORE_RETRY,
    )
    outbox.replies(action.case_id, [event])
    if done and request.back_to_triaged and case_workflow_id:
        await _uncontain(action, request, case_workflow_id, f"{step}:case")
    return reverted


async def _uncontain(
    action: ContainmentAction, request: RevertRequest, case_workflow_id: str, command_id: str
) -> None:
    """Tell the case nothing of it is in force any more (a case that has ended since
    needs no telling)."""
    command = CaseCommand(
        id=command_id,
        kind=CaseCommandKind.SET_STATE,
        actor=request.user,
        state=CaseState.TRIAGED,
        text=f"{describe(action.command)} was reverted by {request.user}",
        data={"case_id": action.case_id},
    )
    case = workflow.get_external_workflow_handle(case_workflow_id)
    try:
        await case.signal(COMMAND_SIGNAL, command)
    except FailureError as error:
        workflow.logger.info("case did not take the end of containment: %s", error)


@workflow.defn(name=CONTAINMENT_REVERT_WORKFLOW)
class ContainmentRevertWorkflow:
    """Reverts, for a person, an action that no expiry workflow owns (one without a
    time-to-live, or whose expiry is over). What it has to say in the case's thread is
    left to a delivery workflow, so it answers as soon as the actuators have."""

    @workflow.run
    async def run(self, input: RevertInput) -> ContainmentAction:
        outbox = Outbox(input.channels)
        reverted = await revert_for_person(
            input.action, input.request, input.case_workflow_id, outbox
        )
        await outbox.hand_off()
        return reverted

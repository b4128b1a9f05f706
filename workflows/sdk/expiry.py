"""Containment that expires by itself.

When a playbook contains with a `duration_seconds`, the containment step starts this
workflow for the action, detached from the playbook: it sleeps, durably, until the
action's time-to-live is up, then reverts it through the actuator and says so on the
case's timeline. The playbook (and its case) can end long before; a playbook that
reverts the action itself cancels the expiry first.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from soar.cases.models import CaseCommandKind, CaseState
    from soar.containment.activities import describe
    from soar.containment.models import ActionState, ContainmentAction
    from workflows.sdk.models import CONTAINMENT_EXPIRY_WORKFLOW, ExpiryInput

from workflows.sdk.containment_step import ContainmentSteps, action_data
from workflows.sdk.recorder import Recorder


@workflow.defn(name=CONTAINMENT_EXPIRY_WORKFLOW)
class ContainmentExpiryWorkflow:
    """Reverts one containment action when it expires; see the module docstring."""

    @workflow.run
    async def run(self, input: ExpiryInput) -> ContainmentAction:
        action = input.action
        recorder = Recorder(input.playbook)
        if action.expires_at is not None and action.expires_at > workflow.now():
            await workflow.sleep(action.expires_at - workflow.now())
        what = describe(action.command)
        steps = ContainmentSteps(action.case_id, recorder, dry_run=False)
        try:
            reverted = await steps.revert(action, why="its time-to-live is up")
        except ActivityError as error:
            detail = f"could not revert {what} when it expired: {error.cause or error}"
            await recorder.handoff(detail, action_data(action))
            reverted = action
        if reverted.state is ActionState.REVERTED:
            await recorder.command(
                CaseCommandKind.SET_STATE,
                state=CaseState.TRIAGED,
                text=f"{what} expired and was reverted",
            )
        await recorder.outbox.drain()
        return reverted

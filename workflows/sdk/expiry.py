"""Containment that expires by itself, or sooner when a person reverts it.

When a playbook contains with a `duration_seconds`, the containment step starts this
workflow for the action, detached from the playbook: it waits, durably, until the
action's time-to-live is up, then reverts it through the actuator and says so on the
case's timeline. The playbook (and its case) can end long before; a playbook that
reverts the action itself cancels the expiry first.

A person who wants the action undone sooner asks this workflow, through its
`revert_now` Update, rather than the actuator: the workflow that owns the expiry does
the revert (see :mod:`workflows.sdk.revert`) and then ends, so the action is never
reverted twice. Its validator refuses, without touching history, an action already
reverted, a revert already under way, and an action whose time-to-live is up (the
expiry is reverting it). A person may also have reverted the action before this
workflow started (it starts just after the action is recorded, and the revert then went
through a workflow of its own): the workflow reads the stored action when it starts and
again when the time is up, and ends without touching one no longer in force.

Runs recorded before any of this (the `revert-by-hand` patch) slept without reading the
store; one of them still takes the Update, and ends once its timer fires, without
reverting again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from soar.cases.models import CaseCommandKind, CaseState
    from soar.containment.activities import describe
    from soar.containment.contract import (
        ALREADY_REVERTED,
        BEING_REVERTED_AT_EXPIRY,
        REVERT_NOW_UPDATE,
        REVERT_UNDER_WAY,
        RevertRequest,
        cannot_revert,
    )
    from soar.containment.lookup import ActionLookup
    from soar.containment.models import ActionState, ContainmentAction
    from workflows.sdk.models import CONTAINMENT_EXPIRY_WORKFLOW, ExpiryInput

from workflows.sdk.containment_step import ContainmentSteps, action_data
from workflows.sdk.recorder import Recorder
from workflows.sdk.revert import RevertRefused, revert_for_person

REVERT_BY_HAND = "revert-by-hand"
"""Patch id: runs recorded before a person could revert sooner slept until the expiry,
and did not read the stored action."""
LOOKUP_TIMEOUT = timedelta(seconds=30)
LOOKUP_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


@workflow.defn(name=CONTAINMENT_EXPIRY_WORKFLOW)
class ContainmentExpiryWorkflow:
    """Reverts one containment action when it expires, or sooner for a person; see the
    module docstring."""

    @workflow.init
    def __init__(self, input: ExpiryInput) -> None:
        self._input = input
        self._recorder = Recorder(input.playbook)
        self._expiring = False
        self._reverting = False
        self._by_hand: ContainmentAction | None = None

    @workflow.run
    async def run(self, input: ExpiryInput) -> ContainmentAction:
        action = input.action
        recorder = self._recorder
        by_hand = workflow.patched(REVERT_BY_HAND)
        if by_hand:
            gone = await self._no_longer_in_force()
            if gone is not None:
                return await self._ended(gone)
        if action.expires_at is not None and action.expires_at > workflow.now():
            await self._until(action.expires_at, by_hand)
        # A person's revert under way decides: done, nothing is left to expire.
        await workflow.wait_condition(lambda: not self._reverting)
        if self._by_hand is not None:
            return await self._ended(self._by_hand)
        self._expiring = True
        if by_hand:
            gone = await self._no_longer_in_force()
            if gone is not None:
                return await self._ended(gone)
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

    async def _ended(self, action: ContainmentAction) -> ContainmentAction:
        """End without reverting: once a person's revert under way has finished (its
        outcome wins) and what it had to say is sent."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._recorder.outbox.drain()
        return self._by_hand or action

    async def _no_longer_in_force(self) -> ContainmentAction | None:
        """The stored action when it is no longer in force (reverted by someone else);
        None while it is, or when the store does not have it."""
        current = await workflow.execute_activity_method(
            ActionLookup.current_action,
            self._input.action.id,
            start_to_close_timeout=LOOKUP_TIMEOUT,
            retry_policy=LOOKUP_RETRY,
        )
        if current is None or current.in_effect:
            return None
        return current

    async def _until(self, expires_at: datetime, by_hand: bool) -> None:
        """Wait for the time-to-live, or until a person has reverted the action."""
        if not by_hand:
            await workflow.sleep(expires_at - workflow.now())
            return
        try:
            await workflow.wait_condition(
                lambda: self._by_hand is not None, timeout=expires_at - workflow.now()
            )
        except TimeoutError:
            return

    @workflow.update(name=REVERT_NOW_UPDATE)
    async def revert_now(self, request: RevertRequest) -> ContainmentAction:
        """Revert the action now, for `request.user`. Re-checks the validator: two
        requests can both pass it before either handler runs."""
        self._refuse_if_not_now()
        self._reverting = True
        try:
            reverted = await revert_for_person(
                self._input.action,
                request,
                self._input.playbook.case_workflow_id,
                self._recorder.outbox,
            )
        finally:
            self._reverting = False
        if reverted.state is ActionState.REVERTED:
            self._by_hand = reverted
        return reverted

    @revert_now.validator
    def validate_revert_now(self, request: RevertRequest) -> None:
        """Reject, without touching history, a revert that cannot happen now."""
        self._refuse_if_not_now()

    def _refuse_if_not_now(self) -> None:
        if self._by_hand is not None:
            why = ALREADY_REVERTED
        elif self._expiring:
            why = BEING_REVERTED_AT_EXPIRY
        elif self._reverting:
            why = REVERT_UNDER_WAY
        else:
            return
        raise RevertRefused(cannot_revert(self._input.action.id, why))

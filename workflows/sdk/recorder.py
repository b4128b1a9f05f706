"""How a playbook run writes what it does: the timeline, the store and its case.

Every id is deterministic — `<workflow id>:<n>`, numbered in the order the run makes
them — so an activity retried or a workflow replayed writes the same rows again, which
the store ignores.

Changes to the case itself (a note, a state, an escalation, a closure) are `command`
signals to the case workflow, which owns the case and writes their timeline entries.
A playbook running on its own (no `case_workflow_id`), or whose case has ended, writes
those entries itself, so nothing it did goes unrecorded.

When the case is shown in a notification channel (Slack), each entry the run writes
becomes a reply beside the case (its thread), and each approval request its own message,
re-rendered as decisions arrive.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from soar.approvals.models import ApprovalRequest
    from soar.cases.contract import COMMAND_SIGNAL, PLAYBOOK_ENDED_SIGNAL, PlaybookEnded
    from soar.cases.models import (
        CaseCommand,
        CaseCommandKind,
        TimelineEvent,
        TimelineKind,
        describe_command,
    )
    from soar.containment.models import ContainmentAction
    from soar.store.activities import StoreActivities
    from workflows.sdk.models import PlaybookInput

from workflows.notifications import Outbox

STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)
MAX_SUMMARY_CHARS = 1000


class Recorder:
    """Writes the timeline, the store and the case commands of one playbook run."""

    def __init__(self, input: PlaybookInput) -> None:
        self.input = input
        self.actions: dict[str, ContainmentAction] = {}
        self.outbox = Outbox(input.channels)
        self._sequence = 0
        self._shown_approvals: set[str] = set()

    @property
    def actor(self) -> str:
        """Who the playbook's own steps are recorded as: `playbook:<name>`."""
        return f"playbook:{self.input.playbook}"

    def next_id(self) -> str:
        """The next deterministic id of this run: `<workflow id>:<n>`."""
        self._sequence += 1
        return f"{workflow.info().workflow_id}:{self._sequence}"

    async def event(
        self,
        kind: str,
        summary: str,
        *,
        actor: str | None = None,
        reason: str | None = None,
        data: dict[str, Any] | None = None,
        event_id: str | None = None,
        local: bool = False,
    ) -> TimelineEvent:
        """Record one timeline entry, stamped with the workflow's time (`local`: by a
        local activity, for a step someone is waiting on)."""
        event = TimelineEvent(
            id=event_id or self.next_id(),
            case_id=self.input.case_id,
            at=workflow.now(),
            kind=kind,
            actor=actor or self.actor,
            summary=summary[:MAX_SUMMARY_CHARS],
            reason=reason,
            data=data or {},
        )
        await _store(StoreActivities.record_timeline_event, event, local=local)
        self.outbox.replies(self.input.case_id, [event])
        return event

    async def approval(
        self, request: ApprovalRequest, *, show: bool = True, local: bool = False
    ) -> None:
        """Record an approval request with its decisions so far, and (`show`) show it to
        the deciders (`local`: by a local activity, for a step someone is waiting on)."""
        await _store(StoreActivities.record_approval, request, local=local)
        if show:
            self.show_approval(request)

    def show_approval(self, request: ApprovalRequest) -> None:
        """Show the request in the notification channels, or update how it is shown."""
        self.outbox.approval(request, new=request.id not in self._shown_approvals)
        self._shown_approvals.add(request.id)

    async def action(self, action: ContainmentAction) -> None:
        """Record the latest state of a containment action."""
        self.actions[action.id] = action
        await workflow.execute_activity_method(
            StoreActivities.record_action,
            action,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )

    async def command(
        self, kind: CaseCommandKind, *, text: str | None = None, **fields: Any
    ) -> CaseCommand:
        """Send a change to the case workflow, or record it here when there is none.

        The command names its case (`data["case_id"]`): should the case workflow id
        have moved on to a newer case, that case ignores it."""
        data = {"case_id": self.input.case_id, **fields.pop("data", {})}
        command = CaseCommand(
            id=self.next_id(), kind=kind, actor=self.actor, text=text, data=data, **fields
        )
        if not self.input.case_workflow_id:
            await self._record_command(command)
            return command
        case = workflow.get_external_workflow_handle(self.input.case_workflow_id)
        try:
            await case.signal(COMMAND_SIGNAL, command)
        except FailureError as error:
            workflow.logger.warning("case workflow did not take command %s: %s", command.id, error)
            await self._record_command(command)
        return command

    async def ended(self, *, failed: bool, reason: str | None = None) -> None:
        """Tell the case this run is over, so it stops waiting for it (a case that has
        ended since needs no telling)."""
        if not self.input.case_workflow_id:
            return
        notice = PlaybookEnded(
            child_id=workflow.info().workflow_id,
            playbook=self.input.playbook,
            failed=failed,
            reason=reason,
        )
        case = workflow.get_external_workflow_handle(self.input.case_workflow_id)
        try:
            await case.signal(PLAYBOOK_ENDED_SIGNAL, notice)
        except FailureError as error:
            workflow.logger.info("case did not take the end of %s: %s", notice.child_id, error)

    async def handoff(self, detail: str, data: dict[str, Any]) -> None:
        """Say on the timeline that a person must take over, and escalate the case."""
        await self.event(TimelineKind.HANDOFF, f"Handed to a person: {detail}", data=data)
        await self.command(
            CaseCommandKind.ESCALATE, text=f"a person must act: {detail}", data={"handoff": True}
        )

    async def _record_command(self, command: CaseCommand) -> None:
        kind, summary = describe_command(command)
        reason = command.text if command.kind is not CaseCommandKind.NOTE else None
        await self.event(
            kind,
            summary,
            reason=reason,
            data={"command_id": command.id, **command.data},
            event_id=command.id,
        )


async def _store(
    method: Callable[[StoreActivities, Any], Awaitable[None]], row: Any, *, local: bool
) -> None:
    """Run one store activity: a local activity when someone waits on the answer (no
    task-queue round trip), else an activity of its own."""
    if local:
        await workflow.execute_local_activity_method(
            method, row, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
        )
        return
    await workflow.execute_activity_method(
        method, row, start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY
    )

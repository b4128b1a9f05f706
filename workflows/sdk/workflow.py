"""The Temporal workflow each playbook runs as, and the `decide` Update that approves it.

:func:`playbook_workflow_class` makes one workflow class per playbook, named
`playbook:<name>`, on :class:`PlaybookWorkflow`. The base holds what every playbook
shares: the approval requests, the `decide` Update (validator and handler), the
`approvals` query, and the run itself — start, the playbook's own code, wait for
in-flight decisions, finish.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from soar.approvals.models import (
        APPROVALS_QUERY,
        DECIDE_UPDATE,
        ApprovalRequest,
        DecisionKind,
        DecisionRequest,
        DecisionResult,
    )
    from soar.cases.models import TimelineKind
    from workflows.sdk.models import (
        PLAYBOOK_FINISHED,
        PlaybookInput,
        PlaybookResult,
        playbook_workflow_type,
    )

from workflows.sdk.approvals import ApprovalBook, DecisionRefused, Entry
from workflows.sdk.containment_step import PlaybookError
from workflows.sdk.context import PlaybookContext
from workflows.sdk.recorder import Recorder
from workflows.sdk.spec import PlaybookOptionsError, PlaybookSpec

DECISION_RECORDED_AT_ONCE = "decision-recorded-at-once"
"""The patch after which a decision's two store writes run at once as local activities,
not one activity after the other: the `decide` Update answers without a task-queue
round trip."""


class PlaybookWorkflow:
    """What every generated playbook workflow shares; see the module docstring."""

    __playbook__: ClassVar[PlaybookSpec]

    @workflow.init
    def __init__(self, input: PlaybookInput) -> None:
        self._book = ApprovalBook()
        self._recorder = Recorder(input)

    async def _execute(self, input: PlaybookInput) -> PlaybookResult:
        spec = type(self).__playbook__
        dry_run = input.dry_run or spec.dry_run
        try:
            options = spec.validate_options(input.options)
        except PlaybookOptionsError as error:
            raise PlaybookError(str(error)) from None
        ctx: PlaybookContext[Any] = PlaybookContext(
            input, self._recorder, self._book, dry_run=dry_run, options=options
        )
        if not input.case_workflow_id:
            mode = " (dry run)" if dry_run else ""
            await self._recorder.event(
                TimelineKind.PLAYBOOK_STARTED,
                f"Playbook {spec.name} started{mode}",
                data={"playbook": spec.name, "alert_id": input.alert.id},
            )
        try:
            await spec.invoke(ctx)
        except asyncio.CancelledError:
            await self._cancelled(spec.name)
            raise
        except Exception as error:
            await workflow.wait_condition(workflow.all_handlers_finished)
            await self._recorder.outbox.drain()
            cause = getattr(error, "cause", None) or error
            await self._recorder.ended(failed=True, reason=str(cause))
            if isinstance(error, FailureError):
                raise
            raise ApplicationError(
                str(error), type=type(error).__name__, non_retryable=True
            ) from error
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._recorder.event(
            PLAYBOOK_FINISHED, f"Playbook {spec.name} finished", data={"playbook": spec.name}
        )
        await self._recorder.outbox.drain()
        await self._recorder.ended(failed=False)
        return PlaybookResult(
            playbook=spec.name,
            case_id=input.case_id,
            dry_run=dry_run,
            approvals=self._book.requests(),
            actions=list(self._recorder.actions.values()),
        )

    async def _cancelled(self, name: str) -> None:
        """The run was cancelled (its case was closed): its open requests are cancelled
        too, so nobody is asked to decide on a closed case, and the timeline says so."""
        for entry in self._book.cancel_pending(workflow.now()):
            await self._recorder.approval(entry.request)
        await self._recorder.event(
            TimelineKind.STATE_CHANGED,
            f"Playbook {name} cancelled",
            reason="its case was closed; its open approval requests are cancelled",
            data={"playbook": name},
        )
        await self._recorder.outbox.drain()

    @workflow.update(name=DECIDE_UPDATE)
    async def decide(self, request: DecisionRequest) -> DecisionResult:
        """Take one decision. Re-checks the validator's rules: another decision may have
        settled the request since this one was validated."""
        refusal = self._book.refusal(request, workflow.now())
        if refusal is not None:
            raise DecisionRefused(refusal)
        entry, result = self._book.decide(request, workflow.now())
        await self._record_decision(entry, request, result)
        return result

    @decide.validator
    def validate_decide(self, request: DecisionRequest) -> None:
        """Reject, without touching history, a decision that may not be taken now."""
        refusal = self._book.refusal(request, workflow.now())
        if refusal is not None:
            raise DecisionRefused(refusal)

    @workflow.query(name=APPROVALS_QUERY)
    def approvals(self) -> list[ApprovalRequest]:
        """The approval requests of this run, pending and settled, with their decisions."""
        return self._book.requests()

    async def _record_decision(
        self, entry: Entry, request: DecisionRequest, result: DecisionResult
    ) -> None:
        """Record the decided request and the decision's timeline entry: at once, by local
        activities, since DECISION_RECORDED_AT_ONCE (the person who clicked waits on
        both), one activity after the other before."""
        approval = entry.request
        verb = "approved" if request.decision is DecisionKind.APPROVE else "denied"
        summary = f"{request.user} {verb} {approval.action} {approval.target}: {result.message}"
        data = {
            "approval_id": approval.id,
            "decision": request.decision.value,
            "state": approval.state.value,
            "approvals": result.approvals,
            "quorum": result.quorum,
        }

        async def timeline_entry(*, local: bool = False) -> None:
            await self._recorder.event(
                TimelineKind.DECISION,
                summary,
                actor=request.user,
                reason=request.reason,
                data=data,
                local=local,
            )

        if workflow.patched(DECISION_RECORDED_AT_ONCE):
            await asyncio.gather(
                self._recorder.approval(approval, local=True), timeline_entry(local=True)
            )
            return
        await self._recorder.approval(approval)
        await timeline_entry()


def playbook_workflow_class(name: str, class_name: str, module: str, doc: str) -> type[Any]:
    """A `@workflow.defn(name="playbook:<name>")` class on :class:`PlaybookWorkflow`.

    It is given `class_name` and `module` so that it can replace the decorated object
    in its module: the worker's sandbox re-imports a workflow class by module and name.
    """

    # `self` stays unannotated: the SDK compares run's annotations with @workflow.init's.
    async def run(self, input: PlaybookInput) -> PlaybookResult:  # type: ignore[no-untyped-def]
        result: PlaybookResult = await self._execute(input)
        return result

    run.__qualname__ = f"{class_name}.run"
    run.__module__ = module
    generated = type(
        class_name,
        (PlaybookWorkflow,),
        {
            "run": workflow.run(run),
            "__module__": module,
            "__qualname__": class_name,
            "__doc__": doc,
        },
    )
    return workflow.defn(name=playbook_workflow_type(name))(generated)

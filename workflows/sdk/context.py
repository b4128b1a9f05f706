"""What a playbook sees: `ctx.alert`, `ctx.triage`, and the steps it may take —
`await ctx.enrich()`, `await ctx.request_approval(...)`, `await ctx.contain(...)` and the
rest.

Each step is deterministic workflow code: the work happens in activities, and each step
leaves an entry on the case's timeline (directly, or through the case workflow for
changes to the case itself). Steps that end without acting — a guardrail refusal, no
actuator, an expired approval — say so on the timeline and, where a person must take
over, escalate the case: they are outcomes, not errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Generic, cast

from pydantic import BaseModel
from temporalio import workflow
from typing_extensions import TypeVar

with workflow.unsafe.imports_passed_through():
    from soar.alerts.models import Alert, Observable, Severity
    from soar.cases.models import CaseCommandKind, Resolution
    from soar.containment.activities import describe
    from soar.containment.models import ContainmentAction, ContainmentCommand
    from soar.enrichment.models import Enrichment, Triage
    from soar.notifications.models import PersonNotice
    from workflows.sdk.models import (
        ENRICH_OBSERVABLES,
        ENRICHMENT,
        NOTIFY,
        ApprovalOutcome,
        EnrichRequest,
        EnrichResult,
        PlaybookInput,
    )

from workflows.sdk.approval_step import LOOKUP_RETRY, ApprovalStep
from workflows.sdk.approvals import ApprovalBook
from workflows.sdk.containment_step import ContainmentSteps, PlaybookError
from workflows.sdk.recorder import Recorder

ENRICH_TIMEOUT = timedelta(minutes=2)


OptionsT = TypeVar("OptionsT", bound=BaseModel, default=BaseModel)
"""The options model of a playbook; a plain `PlaybookContext` has untyped options."""


class PlaybookContext(Generic[OptionsT]):
    """A playbook run's input and steps; the SDK makes one per run. Annotate it with the
    playbook's options model (`ctx: PlaybookContext[BlockOptions]`) for typed
    `ctx.options`."""

    def __init__(
        self,
        input: PlaybookInput,
        recorder: Recorder,
        book: ApprovalBook,
        *,
        dry_run: bool,
        options: BaseModel | None = None,
    ) -> None:
        self.input = input
        self.dry_run = dry_run
        self._options = options
        self._recorder = recorder
        self._approvals = ApprovalStep(input, recorder, book)
        self._containment = ContainmentSteps(input.case_id, recorder, dry_run=dry_run)

    @property
    def alert(self) -> Alert:
        """The alert that started the playbook."""
        return self.input.alert

    @property
    def triage(self) -> Triage | None:
        """The alert's triage (score, verdict, inventory context), when there was one."""
        return self.input.triage

    @property
    def case_id(self) -> str:
        return self.input.case_id

    @property
    def options(self) -> OptionsT:
        """The configured options as the model declared by `@playbook(options=...)`."""
        if self._options is None:
            raise PlaybookError("ctx.options needs an options model: @playbook(options=...)")
        return cast(OptionsT, self._options)

    def option(self, key: str, default: Any) -> Any:
        """A playbook-specific setting from the input's `options`, else `default`."""
        return self.input.options.get(key, default)

    async def enrich(self, observables: Sequence[Observable] | None = None) -> list[Enrichment]:
        """Ask the configured enrichers about the observables (default: the alert's)."""
        chosen = list(self.alert.observables if observables is None else observables)
        result: EnrichResult = await workflow.execute_activity(
            ENRICH_OBSERVABLES,
            EnrichRequest(observables=chosen, source=self.alert.source, marking=self.alert.marking),
            result_type=EnrichResult,
            start_to_close_timeout=ENRICH_TIMEOUT,
            retry_policy=LOOKUP_RETRY,
        )
        answers = [
            f"{e.provider}: {e.observable.value} {e.verdict.value} ({e.score}/100)"
            for e in result.enrichments
        ]
        summary = f"Enriched {len(chosen)} observable(s)"
        await self._recorder.event(
            ENRICHMENT,
            f"{summary}: {'; '.join(answers)}" if answers else f"{summary}: no answers",
            reason="; ".join(result.failures) or None,
            data={
                "observables": [o.model_dump(mode="json") for o in chosen],
                "enrichments": [e.model_dump(mode="json") for e in result.enrichments],
                "failures": result.failures,
            },
        )
        return result.enrichments

    async def request_approval(
        self,
        command: ContainmentCommand | None = None,
        *,
        reason: str,
        blast_radius: str | None = None,
        action: str | None = None,
        target: str | None = None,
        deciders: list[str] | None = None,
        quorum: int = 1,
        expiry_seconds: int | None = None,
    ) -> ApprovalOutcome:
        """Ask people to approve a risky step and wait for their decision or the expiry.

        Give the containment `command` the approval covers (built with `block_ip`,
        `isolate`, `disable_account`, ...): what is asked and on what target come from
        it, and the guardrails are asked first — a refused command ends the step (no one
        is asked to approve what would be refused). An approval of something that is no
        containment names its `action` and `target` instead. `blast_radius` says what
        else the step affects (default: the command in words). `deciders` are user ids,
        `group:<name>` or `role:<name>` references (default: the configured deciders);
        `quorum` distinct approvals settle it, any deny refuses it. `expiry_seconds`
        defaults to the input's, else the configuration's. On expiry the playbook takes
        the configured path: escalate the case, or stop. Check `outcome.approved`, then
        hand the outcome to :meth:`contain`.
        """
        if command is not None:
            action = action or command.action.value
            target = target or command.target.value
            blast_radius = blast_radius or describe(command)
        if action is None or target is None or blast_radius is None:
            raise PlaybookError(
                "request_approval needs a command, or an action, a target and a blast_radius"
            )
        return await self._approvals.request(
            action,
            target,
            reason,
            blast_radius,
            deciders=deciders,
            quorum=quorum,
            expiry_seconds=expiry_seconds,
            command=command,
        )

    async def contain(
        self,
        step: ContainmentCommand | ApprovalOutcome,
        *,
        approval: ApprovalOutcome | None = None,
    ) -> ContainmentAction:
        """Carry out a containment command through the configured actuator.

        Pass the approved outcome of :meth:`request_approval` alone — it carries the
        command it approved — or a command that needs no approval. (A command with an
        `approval` must be on the target the approval names.) Anything not approved
        fails the playbook with a :class:`PlaybookError`. In dry-run no actuator is
        called and the timeline says what would have happened; with no actuator
        configured, or one that fails, the case is handed to a person. A command with a
        `duration_seconds` is reverted when that time is up, by a workflow of its own.
        Check `action.in_effect` (or `action.carried_out`, which counts a dry run).
        """
        if isinstance(step, ApprovalOutcome):
            if step.command is None:
                raise PlaybookError("this approval covers no containment command to carry out")
            return await self._containment.contain(step.command, step)
        return await self._containment.contain(step, approval)

    async def verify(self, action: ContainmentAction) -> ContainmentAction:
        """Ask the actuator whether an applied action is in effect."""
        return await self._containment.verify(action)

    async def revert(self, action: ContainmentAction) -> ContainmentAction:
        """Undo an applied action (a revoke cannot be undone; the timeline says so)."""
        return await self._containment.revert(action)

    async def note(self, text: str) -> None:
        """Add a note to the case."""
        await self._recorder.command(CaseCommandKind.NOTE, text=text)

    async def escalate(self, reason: str, to: str | None = None) -> None:
        """Escalate the case, and assign it to `to` when given."""
        await self._recorder.command(CaseCommandKind.ESCALATE, text=reason)
        if to:
            await self._recorder.command(CaseCommandKind.ASSIGN, assignee=to, text=reason)

    async def notify(self, text: str, to: str) -> None:
        """Tell someone (a user by name, a channel's own id of a person, or a room) what
        happened.

        Delivered by every configured notification channel; without one the timeline
        says it was not delivered, so a person knows to pass it on."""
        channels = self._recorder.outbox.channels
        delivery = (
            f"sent by {', '.join(channels)}"
            if channels
            else "not delivered: no notification channel is configured"
        )
        event = await self._recorder.event(
            NOTIFY, text, reason=delivery, data={"to": to, "delivered": delivery}
        )
        self._recorder.outbox.person(
            PersonNotice(id=event.id, case_id=self.input.case_id, to=to, text=text)
        )

    async def set_severity(self, level: Severity, reason: str) -> None:
        """Change the case's severity, saying why."""
        await self._recorder.command(CaseCommandKind.SET_SEVERITY, severity=level, text=reason)

    async def close(self, resolution: Resolution, reason: str) -> None:
        """Close the case with a resolution, saying why."""
        await self._recorder.command(CaseCommandKind.CLOSE, resolution=resolution, text=reason)

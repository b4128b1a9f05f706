"""Run playbooks outside a case, the way `soar playbooks test` and the pytest fixtures do.

A :class:`PlaybookHarness` is a worker on a private task queue for some playbooks, with
the activities they need bound to a case store, the given actuators (recording ones by
default) and policy. Each run is a standalone playbook workflow — no case workflow: the
SDK writes case changes straight to the timeline — in dry-run unless asked otherwise.

With `auto_approve=True` every approval request may be decided by the built-in test
deciders (:data:`TEST_DECIDERS`), and :meth:`PlaybookHarness.run` approves each request
as they ask: an engineer's dry run, not a decision anyone needs to take.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from temporalio import activity
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError
from temporalio.worker import Worker

from soar.alerts.models import Alert
from soar.approvals.models import (
    APPROVALS_QUERY,
    ApprovalRequest,
    ApprovalSettings,
    ApprovalState,
    DecisionKind,
    DecisionRequest,
    DecisionResult,
)
from soar.approvals.service import DecisionRefusedError, send_decision
from soar.cases.contract import case_of_playbook, playbook_of, playbook_workflow_id
from soar.cases.models import Case, TimelineEvent
from soar.containment.activities import ContainmentActivities
from soar.containment.actuators import Actuator, ActuatorRegistry
from soar.containment.models import ContainmentAction
from soar.enrichment.inventory import Inventory, load_inventory
from soar.enrichment.models import Triage
from soar.enrichment.providers import AddressEnricher, EnricherRegistry
from soar.errors import NotFoundError
from soar.guardrails.settings import GuardrailSettings
from soar.runtime.integrations import actuators_of, enrichers_of
from soar.runtime.worker import playbook_activities, playbook_run_workflows
from soar.settings import Settings
from soar.store.repository import Repository
from soar.testing.actuators import RecordingActuator
from workflows.sdk.activities import PlaybookActivities
from workflows.sdk.models import (
    APPROVAL_POLICY,
    ApprovalPolicy,
    PlaybookInput,
    PlaybookResult,
)
from workflows.sdk.registry import spec_of
from workflows.sdk.sandbox import workflow_runner
from workflows.sdk.spec import PlaybookSpec

TEST_DECIDERS = tuple(f"soar-test-{n}" for n in range(1, 6))
"""Who decides in an auto-approved run: enough distinct people for a quorum of five."""

POLL_SECONDS = 0.05
"""The first wait between two reads of a run's state; it doubles up to MAX_POLL_SECONDS,
so fifty runs waited on at once do not flood the server with queries."""
MAX_POLL_SECONDS = 0.4


@dataclass
class PlaybookRun:
    """What one playbook run did, read back from its workflow and the case store."""

    workflow_id: str
    case_id: str
    result: PlaybookResult | None
    error: str | None
    timeline: list[TimelineEvent] = field(default_factory=list)
    approvals: list[ApprovalRequest] = field(default_factory=list)
    actions: list[ContainmentAction] = field(default_factory=list)

    def kinds(self) -> list[str]:
        """The kinds of the timeline's entries, in order (handy in assertions)."""
        return [event.kind for event in self.timeline]


@activity.defn(name=APPROVAL_POLICY)
async def auto_approval_policy(references: list[str]) -> ApprovalPolicy:
    """Whoever a request names, the built-in test deciders may decide it."""
    return ApprovalPolicy.from_settings(ApprovalSettings(deciders=list(TEST_DECIDERS)), [])


class PlaybookHarness:
    """A worker for `playbooks` on a private task queue; use it as `async with`."""

    def __init__(
        self,
        client: Client,
        store: Repository,
        playbooks: Sequence[Any],
        *,
        actuators: Sequence[Actuator] | None = None,
        approvals: ApprovalSettings | None = None,
        guardrails: GuardrailSettings | None = None,
        inventory: Inventory | None = None,
        enrichers: EnricherRegistry | None = None,
        auto_approve: bool = False,
        workflows: Sequence[type] = (),
    ) -> None:
        self.client = client
        self.store = store
        self.specs = [p if isinstance(p, PlaybookSpec) else spec_of(p) for p in playbooks]
        self.actuators = list(actuators) if actuators is not None else [RecordingActuator()]
        self.auto_approve = auto_approve
        self.task_queue = f"playbooks-{uuid.uuid4().hex[:12]}"
        self._worker = Worker(
            client,
            task_queue=self.task_queue,
            workflow_runner=workflow_runner(),
            workflows=[*playbook_run_workflows(self.specs), *workflows],
            activities=self._activities(
                approvals or ApprovalSettings(),
                guardrails or GuardrailSettings(),
                inventory or Inventory(),
                enrichers or EnricherRegistry([AddressEnricher()]),
            ),
        )

    async def __aenter__(self) -> PlaybookHarness:
        await self._worker.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._worker.__aexit__(exc_type, exc, traceback)

    def _activities(
        self,
        approvals: ApprovalSettings,
        guardrails: GuardrailSettings,
        inventory: Inventory,
        enrichers: EnricherRegistry,
    ) -> list[Callable[..., Any]]:
        containment = ContainmentActivities(
            ActuatorRegistry(self.actuators),
            guardrails,
            inventory,
            dry_run=False,
            slots=self.store,
        )
        playbooks = PlaybookActivities(self.specs, approvals=approvals, enrichers=enrichers)
        activities = playbook_activities(self.store, containment, playbooks)
        if self.auto_approve:
            activities = [
                auto_approval_policy if a == playbooks.approval_policy else a for a in activities
            ]
        return activities

    def spec(self, playbook: Any) -> PlaybookSpec:
        """The spec of a playbook given by name, spec or decorated object."""
        if isinstance(playbook, str):
            found = next((spec for spec in self.specs if spec.name == playbook), None)
            if found is None:
                raise KeyError(f"no playbook {playbook!r} in this harness")
            return found
        return playbook if isinstance(playbook, PlaybookSpec) else spec_of(playbook)

    async def start(
        self,
        playbook: Any,
        alert: Alert,
        *,
        triage: Triage | None = None,
        dry_run: bool = True,
        case_id: str | None = None,
        **input_fields: Any,
    ) -> WorkflowHandle[Any, PlaybookResult]:
        """Start a standalone run of the playbook on the alert; returns its handle.

        Extra keywords are :class:`PlaybookInput` fields (`expiry_seconds`, `options`,
        `requested_by`, ...).
        """
        spec = self.spec(playbook)
        case_id = case_id or f"test-{uuid.uuid4().hex[:12]}"
        await self._record_case(case_id, alert)
        input = PlaybookInput(
            playbook=spec.name,
            case_id=case_id,
            case_workflow_id="",
            alert=alert,
            triage=triage,
            dry_run=dry_run,
            **input_fields,
        )
        return await self.client.start_workflow(
            spec.workflow_type,
            input,
            id=playbook_workflow_id(case_id, spec.name),
            task_queue=self.task_queue,
            result_type=PlaybookResult,
        )

    async def run(
        self, playbook: Any, alert: Alert, *, within: float = 60, **start: Any
    ) -> PlaybookRun:
        """Start the playbook, approve its requests when auto-approving, and wait for it."""
        handle = await self.start(playbook, alert, **start)
        approver = asyncio.create_task(self._approve_all(handle)) if self.auto_approve else None
        try:
            return await self.finish(handle, within=within)
        finally:
            if approver is not None:
                approver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await approver

    async def finish(
        self, handle: WorkflowHandle[Any, PlaybookResult], *, within: float = 60
    ) -> PlaybookRun:
        """Wait for a started run to end and read what it recorded."""
        result: PlaybookResult | None = None
        error: str | None = None
        try:
            result = await asyncio.wait_for(handle.result(), within)
        except WorkflowFailureError as failure:
            error = str(failure.cause or failure)
        case_id = case_of_playbook(handle.id)
        detail = await self.store.get_case_detail(case_id)
        timeline = sorted(detail.timeline, key=_timeline_order) if detail else []
        return PlaybookRun(
            workflow_id=handle.id,
            case_id=case_id,
            result=result,
            error=error,
            timeline=timeline,
            approvals=detail.approvals if detail else [],
            actions=detail.actions if detail else [],
        )

    async def next_approval(
        self, handle: WorkflowHandle[Any, Any], *, within: float = 15
    ) -> ApprovalRequest:
        """The first pending approval request of a run, waiting for one to be made."""
        pause = POLL_SECONDS
        async with asyncio.timeout(within):
            while True:
                pending = await pending_approvals(handle)
                if pending:
                    return pending[0]
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_POLL_SECONDS)

    async def decide(
        self,
        handle: WorkflowHandle[Any, Any],
        approval_id: str,
        user: str,
        decision: DecisionKind = DecisionKind.APPROVE,
        *,
        reason: str | None = None,
        update_id: str | None = None,
    ) -> DecisionResult:
        """Send a decision as the `decide` Update, as every client does. A refusal is
        audited on the timeline and raised as :class:`DecisionRefusedError`."""
        request = DecisionRequest(
            approval_id=approval_id, decision=decision, user=user, reason=reason
        )
        approval = await self.store.get_approval(approval_id)
        if approval is None:
            approvals = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalRequest])
            approval = next((a for a in approvals if a.id == approval_id), None)
        if approval is None:
            raise NotFoundError(f"no approval with id {approval_id!r} in this run")
        return await send_decision(self.client, self.store, approval, request, update_id=update_id)

    async def _approve_all(self, handle: WorkflowHandle[Any, Any]) -> None:
        """Approve every pending request with the test deciders, until the run ends; a
        query that fails (the run not started yet) is tried again."""
        while True:
            try:
                pending = await pending_approvals(handle)
            except (RPCError, WorkflowQueryFailedError):
                pending = []
            for approval in pending:
                decided = {d.user for d in approval.decisions}
                user = next(u for u in TEST_DECIDERS if u not in decided)
                with contextlib.suppress(DecisionRefusedError):
                    await self.decide(handle, approval.id, user, reason="dry run: auto-approved")
            await asyncio.sleep(POLL_SECONDS)

    async def _record_case(self, case_id: str, alert: Alert) -> None:
        """A case row for the run, so the store can show its timeline like any case's."""
        now = datetime.now(UTC)
        await self.store.upsert_case(
            Case(
                id=case_id,
                correlation_key=f"test:{alert.id}",
                title=alert.title,
                severity=alert.severity.level,
                created_at=now,
                updated_at=now,
            )
        )


async def pending_approvals(handle: WorkflowHandle[Any, Any]) -> list[ApprovalRequest]:
    """The run's approval requests still waiting for a decision."""
    approvals = await handle.query(APPROVALS_QUERY, result_type=list[ApprovalRequest])
    return [a for a in approvals if a.state is ApprovalState.PENDING]


def _timeline_order(event: TimelineEvent) -> tuple[datetime, int, str]:
    """By time, then by the step number the SDK puts at the end of its ids."""
    found = re.search(r":(\d+)$", event.id)
    return (event.at, int(found.group(1)) if found else 0, event.id)


class PlaybookRunner:
    """Runs any playbook in dry-run on a Temporal client, starting one auto-approving
    :class:`PlaybookHarness` per playbook the first time it is asked for. Every request
    may be decided by the :data:`TEST_DECIDERS`. Call :meth:`close` when done."""

    def __init__(
        self,
        client: Client,
        store: Repository,
        *,
        actuators: Sequence[Actuator] | None = None,
        guardrails: GuardrailSettings | None = None,
        inventory: Inventory | None = None,
        enrichers: EnricherRegistry | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.actuator = RecordingActuator()
        self.actuators = list(actuators) if actuators is not None else [self.actuator]
        self.guardrails = guardrails
        self.inventory = inventory
        self.enrichers = enrichers
        self._harnesses: dict[str, PlaybookHarness] = {}

    @classmethod
    def configured(cls, client: Client, store: Repository, settings: Settings) -> PlaybookRunner:
        """A runner with the actuators, enrichers, guardrails and inventory `settings`
        configure, built by the installed integrations as the worker builds them."""
        inventory = load_inventory(settings.inventory_file) if settings.inventory_file else None
        return cls(
            client,
            store,
            actuators=list(actuators_of(settings)),
            guardrails=settings.guardrails,
            inventory=inventory,
            enrichers=enrichers_of(settings),
        )

    async def harness(self, playbook: Any) -> PlaybookHarness:
        """The running harness of a playbook (a decorated object or a spec)."""
        spec = playbook if isinstance(playbook, PlaybookSpec) else spec_of(playbook)
        if spec.name not in self._harnesses:
            harness = PlaybookHarness(
                self.client,
                self.store,
                [spec],
                actuators=self.actuators,
                guardrails=self.guardrails,
                inventory=self.inventory,
                enrichers=self.enrichers,
                auto_approve=True,
            )
            self._harnesses[spec.name] = await harness.__aenter__()
        return self._harnesses[spec.name]

    async def run(self, playbook: Any, alert: Alert, **start: Any) -> PlaybookRun:
        """Run the playbook on the alert, approving every request, and return the run."""
        return await (await self.harness(playbook)).run(playbook, alert, **start)

    async def start(
        self, playbook: Any, alert: Alert, **start: Any
    ) -> WorkflowHandle[Any, PlaybookResult]:
        """Start the playbook without deciding anything: decide with :meth:`decide`."""
        return await (await self.harness(playbook)).start(playbook, alert, **start)

    async def decide(
        self,
        handle: WorkflowHandle[Any, Any],
        decision: DecisionKind = DecisionKind.APPROVE,
        *,
        user: str = TEST_DECIDERS[0],
        reason: str | None = None,
    ) -> DecisionResult:
        """Decide the run's next pending approval request as `user`."""
        harness = self._harness_of(handle)
        approval = await harness.next_approval(handle)
        return await harness.decide(handle, approval.id, user, decision, reason=reason)

    async def finish(self, handle: WorkflowHandle[Any, PlaybookResult]) -> PlaybookRun:
        """Wait for a started run to end and read what it recorded."""
        return await self._harness_of(handle).finish(handle)

    async def close(self) -> None:
        """Stop every harness's worker."""
        harnesses, self._harnesses = list(self._harnesses.values()), {}
        for harness in harnesses:
            await harness.__aexit__(None, None, None)

    def _harness_of(self, handle: WorkflowHandle[Any, Any]) -> PlaybookHarness:
        name = playbook_of(handle.id)
        return self._harnesses[name]

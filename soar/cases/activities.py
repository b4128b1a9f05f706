"""The correlation activities: `correlate`, which the alert workflows of releases
before the batched intake call (it signal-with-starts the alert's case with
`USE_EXISTING`, routed by :class:`~soar.cases.routing.CaseRouter` as the intake does),
and `still_running`, which the case workflow asks about its playbooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from soar.alerts.models import Alert
from soar.cases.contract import ATTACH_SIGNAL, AttachAlert
from soar.cases.correlation import CorrelationSettings
from soar.cases.routing import CaseRouter, signal_case
from soar.enrichment.models import Triage
from soar.escalation.models import EscalationSettings

MATCH_PLAYBOOKS = "playbooks.match"
"""The activity that names the playbooks an alert triggers (registered by the playbook SDK)."""


class CorrelateInput(BaseModel):
    alert: Alert
    triage: Triage | None = None


class CaseRef(BaseModel):
    """Where an alert went: the case workflow and its correlation key."""

    workflow_id: str
    correlation_key: str


class MatchRequest(BaseModel):
    """Input of `playbooks.match`."""

    alert: Alert
    triage: Triage | None = None


class PlaybookSettings(BaseModel):
    """`[playbooks.<name>]`: switch a playbook off, run it in dry-run (everything runs,
    no actuator is called), or give it options (`{block_seconds = 7200}`)."""

    enabled: bool = True
    dry_run: bool = False
    options: dict[str, Any] = Field(default_factory=dict)


class PlaybookLaunch(BaseModel):
    """A playbook an alert triggers, as configured: what `playbooks.match` returns."""

    name: str
    dry_run: bool = False
    options: dict[str, Any] = Field(default_factory=dict)


class CorrelationActivities:
    """Bound to the correlation settings, the task queue the case workflows run on, the
    notification channels cases are shown in, and the escalation policies new cases
    take theirs from."""

    def __init__(
        self,
        settings: CorrelationSettings,
        task_queue: str,
        *,
        channels: list[str] | None = None,
        escalation: EscalationSettings | None = None,
    ) -> None:
        self.router = CaseRouter(settings, channels=channels, escalation=escalation)
        self.task_queue = task_queue

    @activity.defn(name="cases.correlate")
    async def correlate(self, request: CorrelateInput) -> CaseRef:
        """Signal the alert into its case, starting the case when none is open."""
        route = self.router.route(request.alert)
        attach = AttachAlert(
            alert=request.alert.model_copy(update={"raw": None}), triage=request.triage
        )
        await signal_case(
            activity.client(), route, ATTACH_SIGNAL, attach, task_queue=self.task_queue
        )
        return CaseRef(workflow_id=route.workflow_id, correlation_key=route.correlation_key)

    @activity.defn(name="cases.still_running")
    async def still_running(self, workflow_ids: list[str]) -> list[str]:
        """Those of the workflows that are still running (a playbook terminated or timed
        out by hand never says that it ended)."""
        running: list[str] = []
        for workflow_id in workflow_ids:
            try:
                described = await activity.client().get_workflow_handle(workflow_id).describe()
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
                continue
            if described.status is WorkflowExecutionStatus.RUNNING:
                running.append(workflow_id)
        return running

    def all(self) -> list[Callable[..., Any]]:
        return [self.correlate, self.still_running]

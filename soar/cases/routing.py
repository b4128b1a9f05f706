"""Which case an alert belongs to, and what its case workflow starts with.

The intake routes every alert it takes (`soar.ingest.delivery`); correlation settings,
notification channels and escalation policies decide the case workflow's id and, when
no case of that key is open, the input of the case it opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from soar.alerts.models import Alert
from soar.cases.contract import CASE_WORKFLOW, CaseInput, case_workflow_id
from soar.cases.correlation import CorrelationSettings, correlation_key
from soar.escalation.models import EscalationSettings


@dataclass(frozen=True)
class Route:
    """Where one alert goes: its case workflow's id, its key, and the input a new case of
    that key starts with."""

    workflow_id: str
    correlation_key: str
    opening: CaseInput


class CaseRouter:
    """Routes alerts with the correlation settings, the channels cases are shown in, and
    the escalation policies new cases take theirs from."""

    def __init__(
        self,
        settings: CorrelationSettings,
        *,
        channels: list[str] | None = None,
        escalation: EscalationSettings | None = None,
    ) -> None:
        self.settings = settings
        self.channels = channels or []
        self.escalation = escalation or EscalationSettings()

    def route(self, alert: Alert) -> Route:
        """The alert's case, and how a new case of its key opens (the first alert of a
        new case picks its escalation policy)."""
        key, window = correlation_key(alert, self.settings)
        policy = self.escalation.policy_for(
            alert.severity.level, alert.rule.name or "", alert.source
        )
        opening = CaseInput(
            correlation_key=key,
            window_seconds=window,
            history_limit=self.settings.case_history_limit,
            channels=self.channels,
            escalation_policy=policy,
            escalation_members=[self.escalation.members(level) for level in policy.levels]
            if policy
            else [],
        )
        return Route(workflow_id=case_workflow_id(key), correlation_key=key, opening=opening)


async def signal_case(
    client: Client,
    route: Route,
    signal: str,
    arg: BaseModel,
    *,
    task_queue: str,
    rpc_timeout: timedelta | None = None,
) -> None:
    """Signal-with-start the route's case (`USE_EXISTING`: concurrent senders reach the one
    open case; after a case ended, the next one opens with `route.opening`)."""
    await client.start_workflow(
        CASE_WORKFLOW,
        route.opening,
        id=route.workflow_id,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        start_signal=signal,
        start_signal_args=[arg],
        rpc_timeout=rpc_timeout,
    )

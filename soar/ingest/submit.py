"""Hand alerts to Temporal exactly once, or to the spool when Temporal cannot take them
(parked, when Temporal answers and refuses them).

Each alert becomes the workflow `alert-<alert id>`, started with USE_EXISTING and
REJECT_DUPLICATE: a redelivery finds the existing run instead of starting another. A
`resolved` notification is a signal-with-start, so it updates the alert's open workflow;
when that run has ended (the alert fired for longer than its resolve window), it starts
a short new run that records the resolution.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from soar import search_attributes as sa
from soar.alerts.contract import ALERT_WORKFLOW, RESOLVE_SIGNAL, AlertWorkflowInput
from soar.alerts.models import Alert, AlertStatus
from soar.ingest.pressure import IngestPressure
from soar.ingest.spool import Spool
from soar.ingest.start_errors import describe, is_refusal

log = logging.getLogger(__name__)

CONCURRENT_STARTS = 64


@dataclass(frozen=True)
class Accepted:
    """What the webhook answers for each alert it took."""

    alert_id: str
    workflow_id: str
    duplicate: bool
    queued: bool


def _was_started(handle: WorkflowHandle[Any, Any]) -> bool:
    """Whether this call created the run (False: USE_EXISTING found one). The SDK keeps
    the server's `started` flag on the handle's start response only."""
    response = getattr(handle, "_start_workflow_response", None)
    return bool(getattr(response, "started", True))


class AlertStarter:
    """Start (or find) the workflow of each alert."""

    def __init__(
        self,
        client: Client,
        *,
        task_queue: str,
        resolve_window_seconds: int,
        rpc_timeout_seconds: float,
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.resolve_window_seconds = resolve_window_seconds
        self.rpc_timeout = timedelta(seconds=rpc_timeout_seconds)

    async def start(self, alert: Alert) -> bool:
        """Start the alert's workflow; True when it already existed (a duplicate).

        Raises whatever Temporal raises when it cannot be reached or refuses the start.
        """
        resolved = alert.status is AlertStatus.RESOLVED
        try:
            handle = await self.client.start_workflow(
                ALERT_WORKFLOW,
                AlertWorkflowInput(alert=alert, resolve_window_seconds=self.resolve_window_seconds),
                id=alert.workflow_id,
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=(
                    WorkflowIDReusePolicy.ALLOW_DUPLICATE
                    if resolved
                    else WorkflowIDReusePolicy.REJECT_DUPLICATE
                ),
                start_signal=RESOLVE_SIGNAL if resolved else None,
                start_signal_args=[alert] if resolved else [],
                search_attributes=TypedSearchAttributes(sa.alert_attributes(alert)),
                rpc_timeout=self.rpc_timeout,
            )
        except WorkflowAlreadyStartedError:
            return True
        return not _was_started(handle)


def _log_unreachable(errors: list[Exception]) -> None:
    """Temporal being away is expected; anything else is a bug worth a traceback."""
    unexpected = [e for e in errors if not isinstance(e, RPCError | RuntimeError)]
    if unexpected:
        log.error("unexpected error starting alert workflows", exc_info=unexpected[0])
    log.warning("could not reach Temporal; spooled %d alert(s)", len(errors))


class AlertSubmitter:
    """Start workflows for accepted alerts; spool them when Temporal cannot be reached,
    park them when Temporal refuses them.

    While the spool holds anything, new alerts are spooled behind it, so alerts reach
    Temporal in the order they arrived. A refused alert is parked rather than spooled:
    it would be refused again, and would hold up every alert spooled behind it.
    """

    def __init__(
        self, starter: AlertStarter, spool: Spool, pressure: IngestPressure | None = None
    ) -> None:
        self.starter = starter
        self.spool = spool
        self.pressure = pressure
        self._slots = asyncio.Semaphore(CONCURRENT_STARTS)

    async def _try_start(self, alert: Alert) -> bool | Exception:
        async with self._slots:
            try:
                return await self.starter.start(alert)
            except Exception as error:
                return error

    async def submit(self, alerts: list[Alert]) -> list[Accepted]:
        """Every alert comes back accepted: started, found, or held on disk (spooled or
        parked, both answered `queued`)."""
        if self.spool.depth > 0:
            await self.spool.put_many(alerts)
            return [Accepted(a.id, a.workflow_id, False, True) for a in alerts]
        with self.pressure.delivery() if self.pressure else contextlib.nullcontext():
            outcomes = await asyncio.gather(*(self._try_start(alert) for alert in alerts))
        failed = [
            (alert, outcome)
            for alert, outcome in zip(alerts, outcomes, strict=True)
            if isinstance(outcome, Exception)
        ]
        refused = [(alert, describe(error)) for alert, error in failed if is_refusal(error)]
        unreachable = [(alert, error) for alert, error in failed if not is_refusal(error)]
        if refused:
            log.warning(
                "Temporal refused %d alert(s); parked them (`soar spool retry` once fixed): %s",
                len(refused),
                refused[0][1],
            )
            await self.spool.park_many(refused)
        if unreachable:
            _log_unreachable([error for _, error in unreachable])
            await self.spool.put_many([alert for alert, _ in unreachable])
        return [
            Accepted(
                alert.id,
                alert.workflow_id,
                duplicate=outcome is True,
                queued=isinstance(outcome, Exception),
            )
            for alert, outcome in zip(alerts, outcomes, strict=True)
        ]

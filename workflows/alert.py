"""The alert workflow of releases before the batched intake: one run per alert, id
`alert-<alert id>`.

The intake no longer starts it (alerts are recorded and handed to their cases in
batches, `soar.ingest.delivery`); workers still run it so that runs started by an
earlier release finish, and their histories replay.

Such a run records the alert in the case store, triages it and hands it to its case,
as local activities; its search attributes (Severity, Source, Rule, AlertStatus) are
set when it starts and upserted when it resolves. It stays open for its resolve window
to take the sender's `resolved` notification as an update of the same alert.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from soar import search_attributes as sa
    from soar.alerts.contract import (
        ALERT_QUERY,
        ALERT_WORKFLOW,
        CASE_QUERY,
        RESOLVE_SIGNAL,
        TRIAGE_QUERY,
        AlertWorkflowInput,
    )
    from soar.alerts.models import Alert, AlertStatus
    from soar.cases.activities import CaseRef, CorrelateInput, CorrelationActivities
    from soar.enrichment.activities import TriageActivities
    from soar.enrichment.models import Triage
    from soar.store.activities import StoreActivities

STORE_TIMEOUT = timedelta(seconds=30)
TRIAGE_TIMEOUT = timedelta(minutes=2)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30)
)


@workflow.defn(name=ALERT_WORKFLOW, sandboxed=False)
class AlertWorkflow:
    """Holds one alert; `resolve` marks it resolved, `alert` returns it.

    Not sandboxed: a run starts per alert, and building a sandbox (re-importing the
    module) cost more CPU than the rest of the run. The code is small and deterministic
    by construction: no I/O, no clock, no randomness; steps are local activities.
    """

    def __init__(self) -> None:
        self._alert: Alert | None = None
        self._resolution: Alert | None = None
        self._triage: Triage | None = None
        self._case: CaseRef | None = None

    @workflow.run
    async def run(self, input: AlertWorkflowInput) -> Alert:
        alert = input.alert
        if self._resolution is not None:
            alert = self._merge_resolution(alert, self._resolution)
        self._alert = alert
        await self._record(alert)
        if alert.status is not AlertStatus.RESOLVED and input.correlate:
            self._triage = await workflow.execute_local_activity_method(
                TriageActivities.triage_alert,
                alert.model_copy(update={"raw": None}),
                start_to_close_timeout=TRIAGE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
            self._case = await workflow.execute_local_activity_method(
                CorrelationActivities.correlate,
                CorrelateInput(alert=alert, triage=self._triage),
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
        if alert.status is not AlertStatus.RESOLVED:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._resolution is not None,
                    timeout=timedelta(seconds=input.resolve_window_seconds),
                )
        if self._resolution is not None and self._alert.status is not AlertStatus.RESOLVED:
            self._alert = self._merge_resolution(self._alert, self._resolution)
            self._tag(self._alert)
            await self._record(self._alert)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._alert

    @workflow.signal(name=RESOLVE_SIGNAL)
    def resolve(self, resolution: Alert) -> None:
        """The sender says the condition is over (Alertmanager/Grafana `resolved`)."""
        self._resolution = resolution

    @workflow.query(name=ALERT_QUERY)
    def alert(self) -> Alert | None:
        return self._alert

    @workflow.query(name=TRIAGE_QUERY)
    def triage(self) -> Triage | None:
        return self._triage

    @workflow.query(name=CASE_QUERY)
    def case(self) -> CaseRef | None:
        return self._case

    @staticmethod
    def _merge_resolution(alert: Alert, resolution: Alert) -> Alert:
        return alert.model_copy(update={"status": AlertStatus.RESOLVED, "raw": resolution.raw})

    @staticmethod
    def _tag(alert: Alert) -> None:
        workflow.upsert_search_attributes(
            [pair.key.value_set(pair.value) for pair in sa.alert_attributes(alert)]
        )

    @staticmethod
    async def _record(alert: Alert) -> None:
        await workflow.execute_local_activity_method(
            StoreActivities.record_alert,
            alert,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )

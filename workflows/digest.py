"""The digest workflow, started by the daily and weekly Temporal Schedules.

It settles which moment the digest is for — the time given, else the time the schedule
meant to start it (`TemporalScheduledStartTime`, so a run that waited for a worker still
covers the right days), else now — and hands the rest to the `reports.send_digest`
activity, which is retried until the store and Slack answer (a broken template is the
one failure that is not retried).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from soar.reports.digest_contract import (
        DIGEST_WORKFLOW,
        SEND_DIGEST_ACTIVITY,
        DigestJob,
        DigestOutcome,
        DigestRequest,
    )

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
SEND_TIMEOUT = timedelta(minutes=5)
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["ReportConfigError"],
)


@workflow.defn(name=DIGEST_WORKFLOW)
class DigestWorkflow:
    """One digest: its figures, its files, its post."""

    @workflow.run
    async def run(self, request: DigestRequest) -> DigestOutcome:
        scheduled = workflow.info().typed_search_attributes.get(SCHEDULED_START)
        at = request.at or scheduled or workflow.now()
        outcome: DigestOutcome = await workflow.execute_activity(
            SEND_DIGEST_ACTIVITY,
            DigestJob(period=request.period, at=at),
            result_type=DigestOutcome,
            start_to_close_timeout=SEND_TIMEOUT,
            retry_policy=SEND_RETRY,
        )
        return outcome

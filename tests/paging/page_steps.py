"""A workflow that sends pages through the `paging.page` activity by name, one after
the other, as the case workflow does — so the tests see Temporal's retries."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from soar.paging.models import PAGE, PageReceipt, PageRequest


@workflow.defn(name="paging-tests.pages")
class PageSteps:
    @workflow.run
    async def run(self, pages: list[PageRequest]) -> list[PageReceipt]:
        receipts: list[PageReceipt] = []
        for page in pages:
            receipts.append(
                await workflow.execute_activity(
                    PAGE,
                    page,
                    result_type=PageReceipt,
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RetryPolicy(
                        initial_interval=timedelta(milliseconds=100), maximum_attempts=5
                    ),
                )
            )
        return receipts

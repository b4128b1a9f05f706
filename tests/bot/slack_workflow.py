"""A workflow that shows a case through the `notify.case_message` activity, called by name
as the product's workflows call it — to show Temporal's retry honouring Slack's
Retry-After."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from bot.publisher import SlackPost
    from soar.notifications.models import CASE_MESSAGE, CaseMessageRequest


@workflow.defn(name="bot-tests.post-case-message")
class PostCaseMessage:
    @workflow.run
    async def run(self, request: CaseMessageRequest) -> list[SlackPost]:
        return await workflow.execute_activity(
            CASE_MESSAGE,
            request,
            result_type=list[SlackPost],
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50)),
        )

"""Workflows that run the ticket activities by name, as the case workflow does, so the
tests see Temporal's retries: a step run several times, a first attempt timed out after
the vendor created the ticket, a credential refused once."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from soar.tickets.models import (
        COMMENT_TICKET,
        OPEN_TICKET,
        OpenTicket,
        TicketComment,
        TicketCommented,
        TicketRef,
    )

RETRIES = RetryPolicy(
    initial_interval=timedelta(milliseconds=100),
    maximum_interval=timedelta(seconds=1),
    maximum_attempts=5,
)


class OpenSteps(BaseModel):
    """Open the ticket `times` times, each attempt given `timeout_seconds`."""

    request: OpenTicket
    times: int = 1
    timeout_seconds: float = 30


@workflow.defn(name="tickets-tests.open")
class OpenTicketSteps:
    @workflow.run
    async def run(self, steps: OpenSteps) -> list[TicketRef]:
        opened: list[TicketRef] = []
        for _ in range(steps.times):
            opened.append(
                await workflow.execute_activity(
                    OPEN_TICKET,
                    steps.request,
                    result_type=TicketRef,
                    start_to_close_timeout=timedelta(seconds=steps.timeout_seconds),
                    retry_policy=RETRIES,
                )
            )
        return opened


@workflow.defn(name="tickets-tests.comment")
class CommentTicketStep:
    @workflow.run
    async def run(self, comment: TicketComment) -> TicketCommented:
        return await workflow.execute_activity(
            COMMENT_TICKET,
            comment,
            result_type=TicketCommented,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRIES,
        )

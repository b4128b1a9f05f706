"""Heartbeats for activities that may outlive a lost completion.

An activity whose worker dies, or whose completion is lost while Temporal is briefly
unreachable, is otherwise only retried when its start-to-close timeout runs out (up to
minutes, with the case waiting behind it). Scheduled with a heartbeat timeout and run
inside :func:`heartbeating`, it is retried within that timeout instead."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from temporalio import activity


@contextlib.asynccontextmanager
async def heartbeating(every: timedelta) -> AsyncIterator[None]:
    """Heartbeat every `every` while the body runs. The first beat comes after `every`,
    so an activity quicker than that costs no heartbeat call. Outside an activity (a
    test calling the method directly) it does nothing."""
    if not activity.in_activity():
        yield
        return

    async def beat() -> None:
        while True:
            await asyncio.sleep(every.total_seconds())
            activity.heartbeat()

    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        beating.cancel()


BATCH_HEARTBEAT_EVERY = timedelta(seconds=3)
"""How often a case's batch activities (triage, store) heartbeat while they run."""
BATCH_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
"""The heartbeat timeout the case workflow schedules those activities with."""

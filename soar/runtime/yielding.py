"""The worker's side of "taking alerts in comes first" (see `soar.ingest.pressure`).

While the intake is saturated the worker takes a new workflow task only while fewer
than `YIELD_SLOTS` run, so the alerts' workflow starts get the Temporal server; nothing
is dropped or reordered, only started later. `soar up` tells its own worker process by
SIGUSR1 (yield) and SIGUSR2 (full width again); a worker on another machine is never
told and never yields.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading

from temporalio.worker import (
    CustomSlotSupplier,
    SlotMarkUsedContext,
    SlotPermit,
    SlotReleaseContext,
    SlotReserveContext,
)

log = logging.getLogger(__name__)

FULL_SLOTS = 100
"""Workflow tasks at once normally (the SDK's own default)."""
YIELD_SLOTS = 1
"""Workflow tasks at once while the intake is saturated: processing slows, never stops.
One measured a little better for the intake than two (median ratio 0.75, against 0.71
to 0.75)."""
WORKFLOW_TASK_POLLERS = 2
"""Polls for workflow tasks at once. A poll holds its reserved slot while it waits, and
may still bring a task after the limit is reached: while yielding, up to
`YIELD_SLOTS + WORKFLOW_TASK_POLLERS` tasks run at once."""
YIELD_SIGNAL = signal.SIGUSR1
FULL_WIDTH_SIGNAL = signal.SIGUSR2


class _Permit(SlotPermit):
    """A reserved slot, and whether a task has come to it."""

    def __init__(self) -> None:
        self.used = False


class YieldingWorkflowSlots(CustomSlotSupplier):
    """Workflow task slots: `full` normally; while the intake is saturated, a new slot
    only while fewer than `yielding` tasks run.

    Yielding counts running tasks rather than reserved slots: a poll waiting on a queue
    with no work holds a reserved slot, and counting those could leave no slot for the
    queue that has work. The SDK may call the synchronous methods from its own threads,
    hence the lock; a waiting reservation is woken on the event loop it waits on.
    """

    def __init__(self, *, full: int = FULL_SLOTS, yielding: int = YIELD_SLOTS) -> None:
        self._full = full
        self._yielding = yielding
        self._yield = False
        self._reserved = 0
        self._running = 0
        self._lock = threading.Lock()
        self._freed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def limit(self) -> int:
        return self._yielding if self._yield else self._full

    @property
    def reserved(self) -> int:
        return self._reserved

    @property
    def running(self) -> int:
        return self._running

    def yield_to_ingest(self, yielding: bool) -> None:
        """Hold the worker to `yielding` running tasks (True), or give it `full` slots
        again (False). Tasks already running finish; only new slots wait."""
        with self._lock:
            changed, self._yield = self._yield != yielding, yielding
        if changed:
            log.info(
                "yielding to the intake: %d workflow task slot(s) while it is saturated"
                if yielding
                else "full width again: up to %d workflow tasks at once",
                self._yielding if yielding else self._full,
            )
        self._wake()

    async def reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit:
        if self._freed is None:
            self._loop = asyncio.get_running_loop()
            self._freed = asyncio.Event()
        while True:
            with self._lock:
                if self._free():
                    self._reserved += 1
                    return _Permit()
                self._freed.clear()
            await self._freed.wait()

    def try_reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit | None:
        with self._lock:
            if self._free():
                self._reserved += 1
                return _Permit()
        return None

    def mark_slot_used(self, ctx: SlotMarkUsedContext) -> None:
        with self._lock:
            if isinstance(ctx.permit, _Permit) and not ctx.permit.used:
                ctx.permit.used = True
                self._running += 1

    def release_slot(self, ctx: SlotReleaseContext) -> None:
        with self._lock:
            self._reserved -= 1
            if isinstance(ctx.permit, _Permit) and ctx.permit.used:
                self._running -= 1
        self._wake()

    def _free(self) -> bool:
        """Whether a new slot may be reserved now (the lock is held)."""
        if self._reserved >= self._full:
            return False
        return not self._yield or self._running < self._yielding

    def _wake(self) -> None:
        if self._loop is None or self._freed is None:
            return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._freed.set)


def listen_for_ingest_signals(slots: YieldingWorkflowSlots) -> None:
    """Let `soar up` switch this worker process between yielding and full width."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(YIELD_SIGNAL, slots.yield_to_ingest, True)
    loop.add_signal_handler(FULL_WIDTH_SIGNAL, slots.yield_to_ingest, False)

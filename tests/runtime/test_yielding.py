"""The worker's yielding workflow slots: the limit they hold to while the intake is
saturated, the signals that switch it, and a real worker on the dev server obeying it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import FixedSizeSlotSupplier as Fixed
from temporalio.worker import SlotPermit, SlotReleaseContext, Worker, WorkerTuner

from soar.runtime.stack import _prepare_worker_process
from soar.runtime.yielding import (
    FULL_SLOTS,
    FULL_WIDTH_SIGNAL,
    WORKFLOW_TASK_POLLERS,
    YIELD_SIGNAL,
    YIELD_SLOTS,
    YieldingWorkflowSlots,
    listen_for_ingest_signals,
)

CONTEXT: Any = None
"""The SDK's reservation context; the slots do not look at it."""


def used(permit: SlotPermit) -> Any:
    return SimpleNamespace(slot_info=None, permit=permit)


async def take(slots: YieldingWorkflowSlots) -> SlotPermit:
    """Reserve a slot and put a task on it, as the SDK does."""
    permit = await slots.reserve_slot(CONTEXT)
    slots.mark_slot_used(used(permit))
    return permit


async def test_new_slots_wait_while_yielding_until_a_running_task_ends() -> None:
    slots = YieldingWorkflowSlots(full=8, yielding=1)
    running = await take(slots)
    slots.yield_to_ingest(True)
    assert slots.try_reserve_slot(CONTEXT) is None
    waiting = asyncio.create_task(slots.reserve_slot(CONTEXT))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    slots.release_slot(SlotReleaseContext(slot_info=None, permit=running))
    await asyncio.wait_for(waiting, 1)
    assert (slots.reserved, slots.running) == (1, 0)


async def test_idle_polls_do_not_use_up_the_yielding_slots() -> None:
    """Reserved slots whose poll has brought nothing yet do not count while yielding:
    counting them could leave the queue that has work without a poll."""
    slots = YieldingWorkflowSlots(full=8, yielding=1)
    slots.yield_to_ingest(True)
    idle = [await asyncio.wait_for(slots.reserve_slot(CONTEXT), 1) for _ in range(3)]
    assert (slots.reserved, slots.running) == (3, 0)
    slots.mark_slot_used(used(idle[0]))
    assert slots.try_reserve_slot(CONTEXT) is None


async def test_full_width_again_wakes_every_waiting_reservation() -> None:
    slots = YieldingWorkflowSlots(full=3, yielding=1)
    slots.yield_to_ingest(True)
    await take(slots)
    waiting = [asyncio.create_task(slots.reserve_slot(CONTEXT)) for _ in range(2)]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in waiting)
    slots.yield_to_ingest(False)
    await asyncio.wait_for(asyncio.gather(*waiting), 1)
    assert (slots.reserved, slots.limit) == (3, 3)
    assert slots.try_reserve_slot(CONTEXT) is None, "never more than `full`"


async def test_the_signals_switch_the_limit() -> None:
    slots = YieldingWorkflowSlots()
    listen_for_ingest_signals(slots)
    loop = asyncio.get_running_loop()
    try:
        os.kill(os.getpid(), YIELD_SIGNAL)
        await asyncio.sleep(0.1)
        assert slots.limit == YIELD_SLOTS
        os.kill(os.getpid(), FULL_WIDTH_SIGNAL)
        await asyncio.sleep(0.1)
        assert slots.limit == FULL_SLOTS
    finally:
        loop.remove_signal_handler(YIELD_SIGNAL)
        loop.remove_signal_handler(FULL_WIDTH_SIGNAL)


def test_a_yield_signal_during_the_worker_start_up_does_not_end_it() -> None:
    """Unhandled, SIGUSR1 ends a process: the spawned worker ignores it until it listens."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(1)"],
        preexec_fn=_prepare_worker_process,
    )
    child.send_signal(YIELD_SIGNAL)
    child.send_signal(FULL_WIDTH_SIGNAL)
    assert child.wait(timeout=10) == 0
    bare = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1)"])
    bare.send_signal(YIELD_SIGNAL)
    assert bare.wait(timeout=10) == -signal.SIGUSR1, "without the preparation it would end"


class Overlap:
    """How many local activities ran at once, at most."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    @activity.defn(name="yielding.hold")
    async def hold(self) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        await asyncio.sleep(0.3)
        self.now -= 1


@workflow.defn(name="YieldingProbe", sandboxed=False)
class ProbeWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_local_activity(
            "yielding.hold", start_to_close_timeout=timedelta(seconds=30)
        )


async def run_probes(client: Client, queue: str, label: str, count: int) -> None:
    handles = [
        await client.start_workflow(ProbeWorkflow.run, id=f"{queue}-{label}-{n}", task_queue=queue)
        for n in range(count)
    ]
    await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), 60)


async def test_a_real_worker_runs_few_tasks_at_once_while_yielding_and_never_stalls(
    temporal_client: Client,
) -> None:
    slots = YieldingWorkflowSlots()
    overlap = Overlap()
    queue = f"yielding-{uuid.uuid4().hex[:8]}"
    tuner = WorkerTuner.create_composite(
        workflow_supplier=slots,
        activity_supplier=Fixed(10),
        local_activity_supplier=Fixed(10),
        nexus_supplier=Fixed(10),
    )
    async with Worker(
        temporal_client,
        task_queue=queue,
        workflows=[ProbeWorkflow],
        activities=[overlap.hold],
        tuner=tuner,
        max_concurrent_workflow_task_polls=WORKFLOW_TASK_POLLERS,
    ):
        slots.yield_to_ingest(True)
        await run_probes(temporal_client, queue, "yielding", 6)
        assert overlap.most <= YIELD_SLOTS + WORKFLOW_TASK_POLLERS
        overlap.most = 0
        slots.yield_to_ingest(False)
        await run_probes(temporal_client, queue, "full", 12)
        assert overlap.most > YIELD_SLOTS + WORKFLOW_TASK_POLLERS

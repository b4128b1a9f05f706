"""Turns at the store's writer: one at a time, urgent writes ahead of queued batches,
and a cancelled waiter neither keeps nor loses a turn."""

from __future__ import annotations

import asyncio

import pytest

from soar.store.write_turns import WriteTurns


async def test_urgent_writes_go_ahead_of_the_queued_others() -> None:
    turns = WriteTurns()
    order: list[str] = []
    release = asyncio.Event()

    async def write(name: str, *, urgent: bool) -> None:
        async with turns.turn(urgent=urgent):
            order.append(name)
            if name == "first":
                await release.wait()

    first = asyncio.create_task(write("first", urgent=False))
    await asyncio.sleep(0)
    queued = [asyncio.create_task(write(f"batch-{n}", urgent=False)) for n in range(3)]
    await asyncio.sleep(0)
    urgent = [asyncio.create_task(write(f"urgent-{n}", urgent=True)) for n in range(2)]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *queued, *urgent)
    assert order == ["first", "urgent-0", "urgent-1", "batch-0", "batch-1", "batch-2"]


async def test_one_writer_at_a_time() -> None:
    turns = WriteTurns()
    inside = 0
    most = 0

    async def write(urgent: bool) -> None:
        nonlocal inside, most
        async with turns.turn(urgent=urgent):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(write(n % 3 == 0) for n in range(30)))
    assert most == 1


async def test_a_cancelled_waiter_does_not_hold_up_the_others() -> None:
    turns = WriteTurns()
    release = asyncio.Event()
    done: list[str] = []

    async def write(name: str, *, hold: bool = False) -> None:
        async with turns.turn(urgent=False):
            if hold:
                await release.wait()
            done.append(name)

    first = asyncio.create_task(write("first", hold=True))
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(write("cancelled"))
    after = asyncio.create_task(write("after"))
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    release.set()
    await asyncio.wait_for(asyncio.gather(first, after), 5)
    assert done == ["first", "after"]


async def test_a_turn_handed_to_a_waiter_cancelled_at_that_moment_passes_on() -> None:
    turns = WriteTurns()
    release = asyncio.Event()
    done: list[str] = []
    tasks: dict[str, asyncio.Task[None]] = {}

    async def first() -> None:
        async with turns.turn(urgent=True):
            await release.wait()
        # The turn has just been handed to `unlucky`, which has not run since.
        tasks["unlucky"].cancel()

    async def write(name: str) -> None:
        async with turns.turn(urgent=True):
            done.append(name)

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    tasks["unlucky"] = asyncio.create_task(write("unlucky"))
    after = asyncio.create_task(write("after"))
    await asyncio.sleep(0)
    release.set()
    await holder
    with pytest.raises(asyncio.CancelledError):
        await tasks["unlucky"]
    await asyncio.wait_for(after, 5)
    assert done == ["after"]

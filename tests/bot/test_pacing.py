"""The pacer: posts spaced per channel, urgent posts first, long waits handed back."""

from __future__ import annotations

import asyncio

import pytest

from bot.pacing import URGENT_BURST, Busy, Pacer


async def test_urgent_posts_go_ahead_of_a_queue() -> None:
    pacer = Pacer(post_interval=0.1, update_interval=0, max_wait=5)
    order: list[str] = []

    async def post(name: str, *, urgent: bool = False) -> None:
        await pacer.before_post("C1", urgent=urgent)
        order.append(name)

    replies = [asyncio.create_task(post(f"reply-{n}")) for n in range(5)]
    await asyncio.sleep(0)
    await post("approval", urgent=True)
    await asyncio.gather(*replies)
    assert order.index("approval") <= 1
    assert sorted(order) == sorted(["approval", *(f"reply-{n}" for n in range(5))])


async def test_a_long_wait_is_handed_back() -> None:
    pacer = Pacer(post_interval=30, update_interval=0, max_wait=1)
    await pacer.before_post("C1")
    with pytest.raises(Busy) as busy:
        await pacer.before_post("C1")
    assert 29 < busy.value.wait <= 30
    await pacer.before_post("C2")


async def test_a_few_urgent_posts_go_at_once_then_one_per_interval() -> None:
    pacer = Pacer(post_interval=30, update_interval=0, max_wait=1)
    for _ in range(URGENT_BURST):
        await asyncio.wait_for(pacer.before_post("C1", urgent=True), 0.5)
    with pytest.raises(Busy) as busy:
        await pacer.before_post("C1", urgent=True)
    assert 29 < busy.value.wait <= 30
    with pytest.raises(Busy):
        await pacer.before_post("C1")
    await asyncio.wait_for(pacer.before_post("C2", urgent=True), 0.5)

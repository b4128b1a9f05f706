"""Group commit: concurrent writes share a transaction, one bad item fails alone, and a
cancelled caller does not strand the others."""

from __future__ import annotations

import asyncio

import pytest

from soar.store.group_commit import GroupCommit


class Recorder:
    """A `write_many` that records each group it is given; items named "bad" fail the
    group they are in; `gate`, when set, holds each write until it is opened, and
    `held[n]` holds the n-th write (from 0) until that event is set; `reached[n]` is set
    when the n-th write begins."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.gate: asyncio.Event | None = None
        self.held: dict[int, asyncio.Event] = {}
        self.reached: dict[int, asyncio.Event] = {}

    async def write_many(self, items: list[str]) -> list[str]:
        self.groups.append(list(items))
        self.reached.setdefault(len(self.groups) - 1, asyncio.Event()).set()
        hold = self.held.get(len(self.groups) - 1)
        if hold is not None:
            await hold.wait()
        if self.gate is not None:
            await self.gate.wait()
        if "bad" in items:
            raise ValueError("a bad item")
        return [f"wrote {item}" for item in items]


def by_name(item: str) -> str | None:
    """Items are keyed by their name up to a dot; "alone…" items go alone."""
    return None if item.startswith("alone") else item.split(".")[0]


async def test_writes_queued_behind_one_go_in_together() -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    commit = GroupCommit(recorder.write_many, key=by_name)
    first = asyncio.create_task(commit.submit("a"))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(commit.submit(name)) for name in "bcde"]
    await asyncio.sleep(0)
    recorder.gate.set()
    answers = await asyncio.gather(first, *rest)
    assert answers == [f"wrote {name}" for name in "abcde"]
    assert recorder.groups == [["a"], ["b", "c", "d", "e"]]


async def test_a_write_alone_goes_alone() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.write_many, key=by_name)
    assert await commit.submit("a") == "wrote a"
    assert recorder.groups == [["a"]]


async def test_a_group_holds_one_item_per_key_and_at_most_max_items() -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    commit = GroupCommit(recorder.write_many, key=by_name, max_items=3)
    first = asyncio.create_task(commit.submit("x"))
    await asyncio.sleep(0)
    names = ["a.1", "b", "a.2", "c", "d", "e", "alone-1", "f"]
    rest = [asyncio.create_task(commit.submit(name)) for name in names]
    await asyncio.sleep(0)
    recorder.gate.set()
    await asyncio.gather(first, *rest)
    assert recorder.groups == [["x"], ["a.1", "b"], ["a.2", "c", "d"], ["e"], ["alone-1"], ["f"]]


async def test_a_bad_item_fails_only_its_own_caller() -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    commit = GroupCommit(recorder.write_many, key=by_name)
    first = asyncio.create_task(commit.submit("a"))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(commit.submit(name)) for name in ["b", "bad", "c"]]
    await asyncio.sleep(0)
    recorder.gate.set()
    answers = await asyncio.gather(first, *rest, return_exceptions=True)
    assert answers[:2] == ["wrote a", "wrote b"]
    assert isinstance(answers[2], ValueError)
    assert answers[3] == "wrote c"
    assert recorder.groups == [["a"], ["b", "bad", "c"], ["b"], ["bad"], ["c"]]


async def test_a_cancelled_writer_still_answers_the_others_in_its_group() -> None:
    recorder = Recorder()
    recorder.held = {0: asyncio.Event(), 1: asyncio.Event()}
    recorder.reached[1] = asyncio.Event()
    commit = GroupCommit(recorder.write_many, key=by_name)
    blocker = asyncio.create_task(commit.submit("a"))
    await asyncio.sleep(0)
    leader = asyncio.create_task(commit.submit("b"))
    follower = asyncio.create_task(commit.submit("c"))
    await asyncio.sleep(0)
    recorder.held[0].set()
    await blocker
    await recorder.reached[1].wait()
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    recorder.held[1].set()
    assert await asyncio.wait_for(follower, 5) == "wrote c"
    assert recorder.groups == [["a"], ["b", "c"]]


async def test_a_caller_cancelled_while_queued_is_not_written() -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    commit = GroupCommit(recorder.write_many, key=by_name)
    first = asyncio.create_task(commit.submit("a"))
    await asyncio.sleep(0)
    queued = asyncio.create_task(commit.submit("b"))
    kept = asyncio.create_task(commit.submit("c"))
    await asyncio.sleep(0)
    queued.cancel()
    recorder.gate.set()
    assert await asyncio.gather(first, kept) == ["wrote a", "wrote c"]
    assert recorder.groups == [["a"], ["c"]]

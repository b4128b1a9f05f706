"""Group commit: writes that arrive while one is in progress go in together, in one
transaction.

Under an alert stream every case records each alert in a short transaction of its own,
and SQLite has one writer: the transactions queue behind one another and each waits on
the event loop between its statements, so the queue, not the work, is what a new case's
first alert waits on. A :class:`GroupCommit` lets the first caller write what is queued
(up to `max_items`) in one transaction while the others wait for its answer; under no
load a write goes alone, as before.

A failed group is written again one item at a time, so one bad item fails only its own
caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Pending(Generic[Item, Result]):
    item: Item
    answer: asyncio.Future[Result] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit(Generic[Item, Result]):
    """Write items in groups with `write_many` (one transaction for a list of items, an
    answer for each, in order).

    `key` names what an item writes (a case id): a group holds one item per key, so a
    statement never touches one row twice; a key of `None` makes the item go alone
    (a merge, which moves other cases' rows).
    """

    def __init__(
        self,
        write_many: Callable[[list[Item]], Awaitable[list[Result]]],
        key: Callable[[Item], Hashable | None],
        max_items: int = 64,
    ) -> None:
        self._write_many = write_many
        self._key = key
        self._max_items = max_items
        self._queue: list[_Pending[Item, Result]] = []
        self._turn = asyncio.Lock()

    async def submit(self, item: Item) -> Result:
        """Write `item`, with whatever else is queued, and return its answer."""
        pending: _Pending[Item, Result] = _Pending(item)
        self._queue.append(pending)
        try:
            while pending in self._queue:
                async with self._turn:
                    if pending in self._queue:
                        group = self._take()
                        # Shielded: if this caller is cancelled, the group is still
                        # written and every other caller in it still gets its answer.
                        await asyncio.shield(asyncio.ensure_future(self._write(group)))
            return await asyncio.shield(pending.answer)
        except asyncio.CancelledError:
            if pending in self._queue:
                self._queue.remove(pending)
            raise

    def _take(self) -> list[_Pending[Item, Result]]:
        """The oldest queued items, at most one per key, up to `max_items`."""
        group: list[_Pending[Item, Result]] = []
        keys: set[Hashable] = set()
        for pending in list(self._queue):
            key = self._key(pending.item)
            if key is None:
                if not group:
                    group.append(pending)
                break
            if key in keys:
                break
            keys.add(key)
            group.append(pending)
            if len(group) == self._max_items:
                break
        for pending in group:
            self._queue.remove(pending)
        return group

    async def _write(self, group: list[_Pending[Item, Result]]) -> None:
        try:
            results = await self._write_many([pending.item for pending in group])
        except Exception as error:
            if len(group) == 1:
                if not group[0].answer.done():
                    group[0].answer.set_exception(error)
                return
            for pending in group:
                await self._write([pending])
            return
        for pending, result in zip(group, results, strict=True):
            if not pending.answer.done():
                pending.answer.set_result(result)

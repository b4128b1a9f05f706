"""Turns at the store's single writer (SQLite), urgent writes first.

SQLite has one writer at a time, so the writers of one process take turns (a deferred
transaction that must upgrade to a write lock fails at once instead of waiting). Under
an alert stream most turns are case batches that nobody is waiting on; a playbook's
timeline entry, an approval request or a decision is what an analyst waits for, so those
are served before the batches already queued. Urgent writes are few (a handful per
playbook), so the batches are not starved.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class WriteTurns:
    """A lock with two queues: a released turn goes to the oldest urgent waiter, else to
    the oldest other one."""

    def __init__(self) -> None:
        self._busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[asyncio.Future[None]] = deque()

    @contextlib.asynccontextmanager
    async def turn(self, *, urgent: bool) -> AsyncIterator[None]:
        """Hold the writer's turn for the body."""
        if self._busy or self._urgent or self._others:
            handed = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._others).append(handed)
            try:
                await handed
            except asyncio.CancelledError:
                if handed.done() and not handed.cancelled():
                    self._release()  # handed the turn just as the caller was cancelled
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        for queue in (self._urgent, self._others):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._busy = False

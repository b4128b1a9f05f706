"""Keeping Slack calls within Slack's rate limits, in one process.

Slack allows about one `chat.postMessage` a second per channel and about 50
`chat.update` a minute per workspace, and asks apps to edit rather than repost.
:class:`Pacer` spaces posts per channel and updates per message and overall, and
serialises the work on one message key, so concurrent calls about the same case queue
up and the later ones find their change already shown.

A short wait is taken inline. A longer one raises :class:`Busy` instead of sleeping:
an activity that sleeps holds a worker slot that enrichment and the store need, so the
activity gives its slot back and Temporal runs it again when its turn comes (see
:mod:`bot.channel`). Across processes, Slack's 429 with `Retry-After` is the
backstop.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from datetime import UTC, datetime

BUSY_WINDOW = 60.0
"""A message updated within this many seconds counts as changing (sharing the budget)."""


URGENT_BURST = 3
"""Urgent posts one channel takes at once before they are spaced `post_interval` apart."""


class Busy(Exception):
    """The channel or message is not free for `wait` seconds; try again then."""

    def __init__(self, what: str, wait: float) -> None:
        super().__init__(f"{what} is busy for {wait:.1f} s")
        self.wait = wait


class Pacer:
    """Per-channel post spacing, per-message and per-workspace update spacing, and
    per-key locks.

    `max_wait` is the longest wait taken inline; beyond it, :class:`Busy` is raised.
    `updates_per_minute` is the budget of `chat.update` calls of this process (Slack's
    tier 3: about 50 a minute per workspace).
    """

    def __init__(
        self,
        post_interval: float,
        update_interval: float,
        max_wait: float,
        updates_per_minute: float = 50,
    ) -> None:
        self.post_interval = post_interval
        self.update_interval = update_interval
        self.update_spacing = 60 / updates_per_minute
        self.max_wait = max_wait
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self._next_post: dict[str, float] = {}
        self._next_urgent: dict[str, float] = {}
        self._next_update = 0.0
        self._changing: dict[str, float] = {}

    def lock(self, key: str) -> asyncio.Lock:
        """The lock of one message key; held while that message is worked on."""
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def before_post(self, channel: str, *, urgent: bool = False) -> None:
        """Take the channel's next free posting slot (at least `post_interval` after the
        previous one) and wait for it, or raise :class:`Busy` when it is too far off.

        `urgent` posts (approval requests, escalations) are spaced among themselves but
        go ahead of the others, pushing them back: a decision someone must take never
        waits behind a storm's thread replies. Up to `URGENT_BURST` of them go at once
        (Slack tolerates short bursts), then one per `post_interval`, so several cases
        asking at the same moment are not queued a second apart.
        """
        now = time.monotonic()
        what = f"channel {channel}"
        if urgent:
            due = self._next_urgent.get(channel, 0.0)
            slot = self._slot(what, now, due - (URGENT_BURST - 1) * self.post_interval)
            self._next_urgent[channel] = max(due, slot) + self.post_interval
            self._next_post[channel] = max(self._next_post.get(channel, 0.0), slot) + (
                self.post_interval
            )
        else:
            slot = self._slot(what, now, self._next_post.get(channel, 0.0))
            self._next_post[channel] = slot + self.post_interval
        await _sleep_until(slot, now)

    async def before_update(self, key: str, last_update: datetime) -> None:
        """Take the next update slot for the message `key` and wait for it, or raise
        :class:`Busy` when it is too far off.

        The slot is within the update budget, and after the message's own interval
        since its last change (read from the message store, so the spacing survives a
        restart): `update_interval`, or longer when many messages are changing, so that
        each gets its share of the budget (ten busy cases at 50 updates a minute: each
        updated about every 12 s).
        """
        now = time.monotonic()
        self._changing = {k: t for k, t in self._changing.items() if now - t < BUSY_WINDOW}
        self._changing[key] = now
        interval = max(self.update_interval, len(self._changing) * self.update_spacing)
        since = (datetime.now(UTC) - last_update).total_seconds()
        earliest = now + min(max(interval - since, 0.0), interval)
        slot = self._slot("Slack's update budget", now, max(earliest, self._next_update))
        self._next_update = slot + self.update_spacing
        await _sleep_until(slot, now)

    def _slot(self, what: str, now: float, earliest: float) -> float:
        slot = max(now, earliest)
        if slot - now > self.max_wait:
            raise Busy(what, slot - now)
        return slot


async def _sleep_until(slot: float, now: float) -> None:
    if slot > now:
        await asyncio.sleep(slot - now)

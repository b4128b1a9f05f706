"""A provider's rate, kept by waiting within a bound rather than by failing.

:class:`RateGate` books call slots at a provider's `requests_per_minute`, spread the way
the provider's HTTP client spreads them (a burst of at most a second's share, at least
one call, refilled continuously). A lookup books the next slot and sleeps until it; a
slot further away than the lookup may wait is not booked at all, and the provider is
skipped for that observable — the next alert tries again.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class RateGate:
    """Call slots at `per_minute` (see the module docstring)."""

    def __init__(self, per_minute: float, *, clock: Callable[[], float] = time.monotonic):
        if per_minute <= 0:
            raise ValueError("a rate must be positive")
        self.per_minute = per_minute
        self.rate = per_minute / 60
        self.capacity = max(1.0, self.rate)
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()

    def reserve(self, bound: float) -> float | None:
        """Book the next slot and return the seconds to wait for it, or None (nothing
        booked) when it is more than `bound` seconds away."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        wait = max(0.0, (1 - self._tokens) / self.rate)
        if wait > bound:
            return None
        self._tokens -= 1
        return wait

"""How saturated the intake is: the deliveries being handed to Temporal at once.

Taking alerts in comes first. On one machine, the API's workflow starts and the worker's
task completions queue for the same embedded server (its SQLite file takes one write at
a time). In a burst the worker's share slows the intake, yet SIEMs that never retry need
their deliveries answered, while triage and correlation can follow a few seconds later.
So the submitter counts its deliveries in flight: from `BUSY_AT` at once the worker is
told to yield (see `soar.runtime.yielding`), and once none has been in flight for
`QUIET_SECONDS` it runs at full width again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)

BUSY_AT = 8
"""Deliveries in flight at once that mean requests are queueing for Temporal."""
QUIET_SECONDS = 0.5
"""How long no delivery may be in flight before the worker runs at full width again."""


class IngestPressure:
    """Counts deliveries in flight and reports when the intake becomes saturated
    (`on_change(True)`) and when it has been quiet again (`on_change(False)`).

    Used from the API's event loop only.
    """

    def __init__(
        self,
        on_change: Callable[[bool], None],
        *,
        busy_at: int = BUSY_AT,
        quiet_seconds: float = QUIET_SECONDS,
    ) -> None:
        self._on_change = on_change
        self._busy_at = busy_at
        self._quiet_seconds = quiet_seconds
        self._in_flight = 0
        self._busy = False
        self._quiet: asyncio.TimerHandle | None = None

    @property
    def busy(self) -> bool:
        return self._busy

    @contextlib.contextmanager
    def delivery(self) -> Iterator[None]:
        """Hold this while a delivery's alerts are being handed to Temporal."""
        self._in_flight += 1
        if self._quiet is not None:
            self._quiet.cancel()
            self._quiet = None
        if not self._busy and self._in_flight >= self._busy_at:
            self._set(True)
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._busy and self._in_flight == 0:
                loop = asyncio.get_running_loop()
                self._quiet = loop.call_later(self._quiet_seconds, self._settle)

    def _settle(self) -> None:
        self._quiet = None
        if self._in_flight == 0:
            self._set(False)

    def _set(self, busy: bool) -> None:
        self._busy = busy
        if busy:
            log.info(
                "intake saturated (%d or more deliveries in flight): the worker yields",
                self._busy_at,
            )
        else:
            log.info("intake quiet again: the worker runs at full width")
        try:
            self._on_change(busy)
        except Exception:
            log.warning("could not tell the worker that the intake is %s", busy, exc_info=True)

"""Drain the spool into Temporal, oldest first, once Temporal answers again."""

from __future__ import annotations

import asyncio
import logging

from soar.ingest.spool import Spool, SpooledAlert
from soar.ingest.start_errors import describe, is_refusal
from soar.ingest.submit import AlertStarter

log = logging.getLogger(__name__)


class Forwarder:
    """Background task: start the workflow of each spooled alert, then delete the entry.

    An entry leaves the spool only after its workflow exists, or parked when Temporal
    refuses its start (retrying the same start would be refused again, and would hold
    up every alert behind it). When Temporal is down the forwarder backs off (up to
    `max_backoff` seconds) and tries the same entry again.
    """

    def __init__(
        self,
        spool: Spool,
        starter: AlertStarter,
        *,
        idle_seconds: float = 0.5,
        max_backoff: float = 5.0,
        batch: int = 200,
    ) -> None:
        self.spool = spool
        self.starter = starter
        self.idle_seconds = idle_seconds
        self.max_backoff = max_backoff
        self.batch = batch
        self.forwarded = 0
        self.parked = 0

    async def _forward(self, entry: SpooledAlert) -> bool:
        """Start one entry's workflow and drop the entry; False when Temporal refused the
        start and the entry was parked. Raises when Temporal could not be reached."""
        try:
            await self.starter.start(entry.alert)
        except Exception as error:
            if not is_refusal(error):
                await self.spool.record_failure(entry.seq, describe(error))
                raise
            await self.spool.park(entry.seq, describe(error))
            log.warning(
                "Temporal refused alert %s; parked it (`soar spool retry` once fixed): %s",
                entry.alert.id,
                describe(error),
            )
            return False
        await self.spool.remove(entry.seq)
        return True

    async def drain_once(self) -> int:
        """Forward what the spool holds now, in order, parking refused entries; stop at the
        first failure to reach Temporal.

        Returns how many entries were forwarded.
        """
        forwarded = 0
        while entries := await self.spool.head(self.batch):
            for entry in entries:
                if await self._forward(entry):
                    forwarded += 1
                    self.forwarded += 1
                else:
                    self.parked += 1
        return forwarded

    async def run(self) -> None:
        """Forward forever; meant to run as a task cancelled at shutdown."""
        backoff = self.idle_seconds
        while True:
            if self.spool.refresh_depth() == 0:
                await asyncio.sleep(self.idle_seconds)
                continue
            try:
                count = await self.drain_once()
                if count:
                    log.info("forwarded %d spooled alert(s) to Temporal", count)
                backoff = self.idle_seconds
            except Exception as error:
                log.info("spool forwarder waiting for Temporal: %s", type(error).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

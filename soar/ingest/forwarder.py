"""Drain the spool into Temporal, oldest first, once Temporal answers again."""

from __future__ import annotations

import asyncio
import logging

from soar.ingest.spool import Spool
from soar.ingest.submit import AlertStarter

log = logging.getLogger(__name__)


class Forwarder:
    """Background task: start the workflow of each spooled alert, then delete the entry.

    An entry leaves the spool only after its workflow exists. When Temporal is down the
    forwarder backs off (up to `max_backoff` seconds) and tries the same entry again.
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

    async def drain_once(self) -> int:
        """Forward what the spool holds now, in order; stop at the first failure.

        Returns how many entries were forwarded.
        """
        forwarded = 0
        while entries := await self.spool.head(self.batch):
            for entry in entries:
                try:
                    await self.starter.start(entry.alert)
                except Exception as error:
                    await self.spool.record_failure(entry.seq, f"{type(error).__name__}: {error}")
                    raise
                await self.spool.remove(entry.seq)
                forwarded += 1
        self.forwarded += forwarded
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

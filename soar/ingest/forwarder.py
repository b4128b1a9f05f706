"""Drain the spool into the store and Temporal, oldest first, once they answer again;
and deliver again what a crash left recorded but on no case."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from datetime import timedelta

from soar.ingest.delivery import AlertDelivery
from soar.ingest.spool import Spool
from soar.ingest.start_errors import describe, is_refusal

log = logging.getLogger(__name__)

REDELIVER_AFTER = timedelta(minutes=2)
"""How long an alert may be recorded and on no case before it is delivered again (a
case working through a storm's backlog attaches well within it)."""


class Forwarder:
    """Background task: deliver the spool's entries, a batch at a time, then delete them.

    An entry leaves the spool only after its alert is recorded and its case signalled,
    or parked when Temporal refuses the signal (retrying would be refused again, and
    would hold up every alert behind it). When the store or Temporal is away the
    forwarder backs off (up to `max_backoff` seconds) and tries the same entries again.
    Every `redeliver_every` seconds it also delivers again the alerts recorded more than
    `redeliver_after` ago and still on no case, as a crash leaves them
    (:meth:`AlertDelivery.redeliver_unattached`).
    """

    def __init__(
        self,
        spool: Spool,
        delivery: AlertDelivery,
        *,
        idle_seconds: float = 0.5,
        max_backoff: float = 5.0,
        batch: int = 200,
        redeliver_every: float = 30.0,
        redeliver_after: timedelta = REDELIVER_AFTER,
    ) -> None:
        self.spool = spool
        self.delivery = delivery
        self.idle_seconds = idle_seconds
        self.max_backoff = max_backoff
        self.batch = batch
        self.redeliver_every = redeliver_every
        self.redeliver_after = redeliver_after
        self.forwarded = 0
        self.parked = 0
        self.redelivered = 0

    async def drain_once(self) -> int:
        """Forward what the spool holds now, in order, parking refused entries; stop at the
        first failure to reach the store or Temporal (raised).

        Returns how many entries were forwarded.
        """
        forwarded = 0
        while entries := await self.spool.head(self.batch):
            try:
                delivery = await self.delivery.deliver([entry.alert for entry in entries])
            except Exception as error:
                await self.spool.record_failure(entries[0].seq, describe(error))
                raise
            seqs: dict[str, list[int]] = defaultdict(list)
            for entry in entries:
                seqs[entry.alert.id].append(entry.seq)
            unreachable: BaseException | None = None
            held: set[int] = set()
            for group, failure in delivery.failed:
                group_seqs = [seq for alert in group for seq in seqs[alert.id]]
                if is_refusal(failure):
                    for seq in group_seqs:
                        await self.spool.park(seq, describe(failure))
                    self.parked += len(group_seqs)
                    log.warning(
                        "Temporal refused %d alert(s); parked them (`soar spool retry` once "
                        "fixed): %s",
                        len(group_seqs),
                        describe(failure),
                    )
                else:
                    unreachable = unreachable or failure
                    await self.spool.record_failure(group_seqs[0], describe(failure))
                held.update(group_seqs)
            done = [entry.seq for entry in entries if entry.seq not in held]
            await self.spool.remove_many(done)
            forwarded += len(done)
            self.forwarded += len(done)
            if unreachable is not None:
                raise unreachable
        return forwarded

    async def run(self) -> None:
        """Forward forever; meant to run as a task cancelled at shutdown."""
        backoff = self.idle_seconds
        next_sweep = time.monotonic() + self.redeliver_every
        while True:
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.redeliver_every
                await self._redeliver()
            if self.spool.refresh_depth() == 0:
                await asyncio.sleep(self.idle_seconds)
                continue
            try:
                count = await self.drain_once()
                if count:
                    log.info("forwarded %d spooled alert(s)", count)
                backoff = self.idle_seconds
            except Exception as error:
                log.info("spool forwarder waiting for the store or Temporal: %s", describe(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _redeliver(self) -> None:
        try:
            count = await self.delivery.redeliver_unattached(older_than=self.redeliver_after)
        except Exception as error:
            log.info("could not deliver unattached alerts again yet: %s", describe(error))
            return
        if count:
            self.redelivered += count
            log.warning("delivered %d recorded alert(s) on no case again", count)

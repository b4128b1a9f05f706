"""Hand accepted alerts to their cases, exactly once.

A batch (one webhook request, or what the spool forwards) is recorded in the case store
in one transaction — each alert id once, so a sender's retry records nothing new —
and then each case workflow it touches gets ONE signal-with-start carrying its alerts
in the order they came (`attach_alerts`, `USE_EXISTING`: concurrent batches reach the
one open case; after a case ended, the next alert opens the next one). The case
triages them and puts them on its timeline.

The store row is the outbox: an alert recorded but on no case yet (the API died between
the two steps, or Temporal was away) is delivered again — by the sender's retry, by the
spool's forwarder, or by :meth:`AlertDelivery.redeliver_unattached` — and the case
workflow takes each alert id once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio.client import Client

from soar.alerts.models import Alert
from soar.cases.contract import ATTACH_ALERTS_SIGNAL, AttachAlerts, alert_chunks
from soar.cases.routing import CaseRouter, Route, signal_case
from soar.ingest.start_errors import is_refusal
from soar.store.repository import Repository

CONCURRENT_SIGNALS = 64
"""Case workflows signalled at once for one batch."""


@dataclass
class Delivery:
    """What became of a batch: which alert ids were duplicates (recorded before — a
    resolution of a known alert too — or twice in the batch), and the alerts whose case
    workflow could not be signalled, with why."""

    duplicates: set[str] = field(default_factory=set)
    failed: list[tuple[list[Alert], Exception]] = field(default_factory=list)


class AlertDelivery:
    """Records batches in the store and signals their cases (see the module docstring)."""

    def __init__(
        self,
        client: Client,
        store: Repository,
        router: CaseRouter,
        *,
        task_queue: str,
        rpc_timeout_seconds: float,
    ) -> None:
        self.client = client
        self.store = store
        self.router = router
        self.task_queue = task_queue
        self.rpc_timeout = timedelta(seconds=rpc_timeout_seconds)
        self._slots = asyncio.Semaphore(CONCURRENT_SIGNALS)

    def workflow_of(self, alert: Alert) -> str:
        """The id of the case workflow the alert goes to."""
        return self.router.route(alert).workflow_id

    async def deliver(self, alerts: list[Alert]) -> Delivery:
        """Record the batch, then signal each case it touches once.

        Raises what the store raises when it cannot record the batch (nothing was
        recorded); a case that could not be signalled is in :attr:`Delivery.failed`.
        """
        intake = await self.store.receive_alerts(alerts)
        delivery = Delivery()
        counted: set[str] = set()
        for alert in alerts:
            if alert.id in counted or alert.id not in intake.new:
                delivery.duplicates.add(alert.id)
            counted.add(alert.id)
        cases: dict[str, tuple[Route, list[Alert]]] = {}
        for alert in intake.to_deliver(alerts):
            route = self.router.route(alert)
            cases.setdefault(route.workflow_id, (route, []))[1].append(
                alert.model_copy(update={"raw": None})
            )
        for failed in await asyncio.gather(
            *(self._signal(route, group) for route, group in cases.values())
        ):
            delivery.failed.extend(failed)
        return delivery

    async def redeliver_unattached(self, *, older_than: timedelta, limit: int = 500) -> int:
        """Deliver again the alerts recorded more than `older_than` ago that are on no
        case yet; how many there were. Raises what the store or Temporal raises."""
        left = await self.store.unattached_alerts(datetime.now(UTC) - older_than, limit)
        if left:
            delivery = await self.deliver(left)
            if delivery.failed:
                raise delivery.failed[0][1]
        return len(left)

    async def _signal(
        self, route: Route, alerts: list[Alert]
    ) -> list[tuple[list[Alert], Exception]]:
        """Signal-with-start one case with its alerts, in order, in signals of bounded
        size; what could not be sent, and why. A refused signal is skipped (it would be
        refused again); once Temporal cannot be reached, the rest waits."""
        failed: list[tuple[list[Alert], Exception]] = []
        async with self._slots:
            chunks = alert_chunks(alerts)
            for index, chunk in enumerate(chunks):
                try:
                    await signal_case(
                        self.client,
                        route,
                        ATTACH_ALERTS_SIGNAL,
                        AttachAlerts(alerts=chunk),
                        task_queue=self.task_queue,
                        rpc_timeout=self.rpc_timeout,
                    )
                except Exception as error:
                    if not is_refusal(error):
                        failed.append(([a for rest in chunks[index:] for a in rest], error))
                        break
                    failed.append((chunk, error))
        return failed

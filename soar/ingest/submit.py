"""Take a webhook's alerts: deliver them to their cases exactly once, or hold them in
the spool when the store or Temporal cannot take them (parked, when Temporal answers
and refuses them). See :mod:`soar.ingest.delivery`.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from temporalio.service import RPCError

from soar.alerts.models import Alert
from soar.ingest.delivery import AlertDelivery
from soar.ingest.pressure import IngestPressure
from soar.ingest.spool import Spool
from soar.ingest.start_errors import describe, is_refusal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    """What the webhook answers for each alert it took: its id, the case workflow it
    goes to, whether it was a duplicate, and whether it waits in the spool."""

    alert_id: str
    workflow_id: str
    duplicate: bool
    queued: bool


def _log_unreachable(errors: list[Exception], spooled: int) -> None:
    """Temporal or the store being away is expected; anything else is a bug worth a
    traceback."""
    unexpected = [
        e for e in errors if not isinstance(e, RPCError | RuntimeError | OSError | SQLAlchemyError)
    ]
    if unexpected:
        log.error("unexpected error delivering alerts", exc_info=unexpected[0])
    log.warning("could not reach Temporal or the store; spooled %d alert(s)", spooled)


class AlertSubmitter:
    """Deliver accepted alerts; spool them when the store or Temporal cannot be reached,
    park them when Temporal refuses them.

    While the spool holds anything, new alerts are spooled behind it, so alerts reach
    their cases in the order they arrived. A refused alert is parked rather than
    spooled: it would be refused again, and would hold up every alert spooled behind it.
    """

    def __init__(
        self, delivery: AlertDelivery, spool: Spool, pressure: IngestPressure | None = None
    ) -> None:
        self.delivery = delivery
        self.spool = spool
        self.pressure = pressure

    async def submit(self, alerts: list[Alert]) -> list[Accepted]:
        """Every alert comes back accepted: delivered, found to be a duplicate, or held on
        disk (spooled or parked, both answered `queued`)."""
        if self.spool.depth > 0:
            await self.spool.put_many(alerts)
            return self._answer(alerts, queued={a.id for a in alerts})
        with self.pressure.delivery() if self.pressure else contextlib.nullcontext():
            try:
                delivery = await self.delivery.deliver(alerts)
            except Exception as error:
                _log_unreachable([error], len(alerts))
                await self.spool.put_many(alerts)
                return self._answer(alerts, queued={a.id for a in alerts})
        refused = [
            (alert, describe(error))
            for group, error in delivery.failed
            if is_refusal(error)
            for alert in group
        ]
        unreachable = [
            (alert, error)
            for group, error in delivery.failed
            if not is_refusal(error)
            for alert in group
        ]
        if refused:
            log.warning(
                "Temporal refused %d alert(s); parked them (`soar spool retry` once fixed): %s",
                len(refused),
                refused[0][1],
            )
            await self.spool.park_many(refused)
        if unreachable:
            _log_unreachable([error for _, error in unreachable], len(unreachable))
            await self.spool.put_many([alert for alert, _ in unreachable])
        held = {alert.id for alert, _ in refused} | {alert.id for alert, _ in unreachable}
        return self._answer(alerts, queued=held, duplicates=delivery.duplicates)

    def _answer(
        self, alerts: list[Alert], *, queued: set[str], duplicates: set[str] | None = None
    ) -> list[Accepted]:
        return [
            Accepted(
                alert.id,
                self.delivery.workflow_of(alert),
                duplicate=alert.id in (duplicates or set()),
                queued=alert.id in queued,
            )
            for alert in alerts
        ]

"""Read an accepted alert back before it is recorded (read your writes).

The webhook answers 202 only once each alert is held durably: recorded in the case
store (the usual case, readable there at once), or in the spool of the API process
that took it, when the store or Temporal could not take it (queued, or parked when
Temporal refused it). API processes that share a data directory share the spool file;
one on another machine sees a spooled alert once its peer's forwarder has recorded it.
"""

from __future__ import annotations

from soar.alerts.models import Alert
from soar.ingest.spool import Spool

MAX_ALERT_ID = 300
"""Alert ids are a source name and 24 hex digits; anything far longer names no alert."""


async def spooled_alert(spool: Spool, alert_id: str) -> Alert | None:
    """An alert the intake accepted into the spool and has not recorded yet; None when
    the spool does not hold it."""
    if len(alert_id) > MAX_ALERT_ID:
        return None
    return await spool.find(alert_id)

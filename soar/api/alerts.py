"""Operator API for alerts: `GET /api/alerts` and `GET /api/alerts/{alert_id}`.

An alert the webhook accepted is readable at once: from the case store, where the
intake records it before it answers, or from the spool when the intake had to hold it
there (see :mod:`soar.ingest.accepted`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from soar.alerts.models import Severity
from soar.api.deps import Services, require_operator, services
from soar.ingest.accepted import spooled_alert
from soar.store.views import AlertDetail, AlertState

router = APIRouter(prefix="/api/alerts", tags=["alerts"], dependencies=[Depends(require_operator)])


@router.get("")
async def list_alerts(
    svc: Annotated[Services, Depends(services)],
    source: str | None = None,
    severity: Severity | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Recorded alerts, newest first."""
    alerts = await svc.store.list_alerts(
        source=source, severity=severity, limit=limit, offset=offset
    )
    return [alert.model_dump(mode="json", exclude={"raw"}) for alert in alerts]


@router.get("/{alert_id}", response_model=AlertDetail)
async def get_alert(alert_id: str, svc: Annotated[Services, Depends(services)]) -> AlertDetail:
    """The normalised alert and its state: `received` from the moment the webhook
    accepted it, `triaged` (with its triage and case) once it is on its case."""
    recorded = await svc.store.get_alert_detail(alert_id)
    if recorded is not None:
        return recorded
    alert = await spooled_alert(svc.spool, alert_id)
    if alert is None:
        raise HTTPException(404, f"no alert with id {alert_id!r}")
    return AlertDetail(**dict(alert), state=AlertState.RECEIVED)

"""Operator API for alerts: `GET /api/alerts` and `GET /api/alerts/{alert_id}`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from soar.alerts.models import Alert, Severity
from soar.api.deps import Services, require_operator, services

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


@router.get("/{alert_id}", response_model=Alert)
async def get_alert(alert_id: str, svc: Annotated[Services, Depends(services)]) -> Alert:
    """The normalised alert, whether recorded by its workflow or still queued in the spool."""
    alert = await svc.store.get_alert(alert_id) or await svc.spool.find(alert_id)
    if alert is None:
        raise HTTPException(404, f"no alert with id {alert_id!r}")
    return alert

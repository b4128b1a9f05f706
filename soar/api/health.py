"""`/healthz` (the process is alive) and `/readyz` (Temporal reachable, spool depth and
parked alerts)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from soar.api.deps import Services, services

router = APIRouter(tags=["health"])

READY_TIMEOUT_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive: answers as long as the process serves requests."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(svc: Annotated[Services, Depends(services)]) -> JSONResponse:
    """Ready when Temporal answers. Alerts are still accepted (spooled) when it does not,
    so the spool depth is reported either way, with the alerts Temporal refused (parked,
    waiting for an operator): those need attention but do not make the API unready."""
    try:
        await asyncio.wait_for(
            svc.client.service_client.check_health(), timeout=READY_TIMEOUT_SECONDS
        )
        temporal, status = "reachable", 200
    except Exception as error:
        temporal, status = f"unreachable: {type(error).__name__}", 503
    return JSONResponse(
        {
            "temporal": temporal,
            "spool_depth": svc.spool.refresh_depth(),
            "parked": svc.spool.count_parked(),
        },
        status_code=status,
    )

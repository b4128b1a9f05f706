"""Operator API for enrichment: `GET /api/enrichment?value=…` looks one value up.

The lookup is :mod:`soar.enrichment.service`'s, the one `soar enrich` uses: the same
guarded engine as triage, with its cache in the case store. The API process builds its
sources from `[enrichment.providers]` on the first lookup and keeps them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from soar.alerts.models import ObservableType
from soar.api.deps import Services, require_operator, services
from soar.enrichment.markings import parse_tlp
from soar.enrichment.service import EnrichmentLookup, EnrichmentService
from soar.errors import OperationError, UnavailableError
from soar.integrations.errors import IntegrationConfigError
from soar.runtime.integrations import enrichers_of

router = APIRouter(prefix="/api", tags=["enrichment"], dependencies=[Depends(require_operator)])


def enrichment_service(
    request: Request, svc: Annotated[Services, Depends(services)]
) -> EnrichmentService:
    """The app's enrichment service, built once from the settings."""
    built: EnrichmentService | None = getattr(request.app.state, "enrichment", None)
    if built is None:
        try:
            registry = enrichers_of(svc.settings)
        except IntegrationConfigError as error:
            raise UnavailableError(f"enrichment is not configured right: {error}") from None
        built = EnrichmentService.from_settings(svc.settings, svc.store, registry)
        request.app.state.enrichment = built
    return built


@router.get("/enrichment", response_model=EnrichmentLookup)
async def enrich(
    service: Annotated[EnrichmentService, Depends(enrichment_service)],
    value: Annotated[str, Query(min_length=1, max_length=2048)],
    type: ObservableType | None = None,
    fresh: bool = False,
    tlp: Annotated[str | None, Query(description="The value's TLP marking.")] = None,
) -> EnrichmentLookup:
    """Every configured source's answer about `value` (cached or fresh, skipped or
    failed and why) and the combined verdict. `type` is guessed when not given; `fresh`
    bypasses the cache; `tlp` marks the value (default: `enrichment.default_tlp`)."""
    marking = parse_tlp(tlp) if tlp is not None else None
    if tlp is not None and marking is None:
        raise OperationError(f"tlp must be clear, green, amber, amber+strict or red, not {tlp!r}")
    return await service.lookup(value, type, fresh=fresh, tlp=marking)

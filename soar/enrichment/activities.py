"""The triage activity: run the configured enrichers on an alert's observables, then score.

Enrichers run concurrently, each call bounded by the registry's timeout and the number
in flight by its concurrency limit. A provider that fails or times out costs its own
answer only: the failure becomes a reason on the triage, and the triage completes —
an alert is never left untriaged because a vendor was down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity

from soar.alerts.models import Alert, Observable
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import Enrichment, Triage
from soar.enrichment.providers import Enricher, EnricherRegistry
from soar.enrichment.scoring import triage

MAX_ERROR_CHARS = 200


@dataclass
class EnrichmentRun:
    """What the enrichers answered, and a readable line for each one that failed."""

    enrichments: list[Enrichment] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


async def run_enrichers(
    registry: EnricherRegistry, observables: Sequence[Observable]
) -> EnrichmentRun:
    """Every supporting enricher on every observable, concurrently; never raises for a
    provider's failure. Answers keep the order of observables, then of enrichers."""
    limit = asyncio.Semaphore(registry.max_concurrency)
    calls = [(e, o) for o in observables for e in registry.for_observable(o)]
    outcomes = await asyncio.gather(
        *(
            _call(enricher, observable, limit, registry.timeout_seconds)
            for enricher, observable in calls
        )
    )
    run = EnrichmentRun()
    for outcome in outcomes:
        if isinstance(outcome, Enrichment):
            run.enrichments.append(outcome)
        elif isinstance(outcome, str):
            run.failures.append(outcome)
    return run


async def _call(
    enricher: Enricher, observable: Observable, limit: asyncio.Semaphore, seconds: float
) -> Enrichment | str | None:
    """The enricher's answer (`None`: nothing to say), or a line saying why it has none."""
    async with limit:
        try:
            async with asyncio.timeout(seconds):
                return await enricher.enrich(observable)
        except TimeoutError:
            return f"enricher {enricher.name} timed out on {observable.value} after {seconds:g} s"
        except Exception as error:
            message = str(error)[:MAX_ERROR_CHARS]
            activity.logger.warning(
                "enricher %s failed on %s", enricher.name, observable.value, exc_info=True
            )
            return (
                f"enricher {enricher.name} failed on {observable.value}: "
                f"{type(error).__name__}: {message}"
            )


class TriageActivities:
    """Triage with the given inventory and enrichers; register `triage_alert` on a worker."""

    def __init__(self, inventory: Inventory, registry: EnricherRegistry) -> None:
        self.inventory = inventory
        self.registry = registry

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of this class, for a worker."""
        return [self.triage_alert]

    @activity.defn(name="triage_alert")
    async def triage_alert(self, alert: Alert) -> Triage:
        """Enrich the alert's observables and score it; provider failures become reasons."""
        run = await run_enrichers(self.registry, alert.observables)
        result = triage(alert, run.enrichments, self.inventory)
        return result.model_copy(update={"reasons": [*result.reasons, *run.failures]})

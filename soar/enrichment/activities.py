"""The triage activity: look an alert's observables up through the guarded engine, then score.

Every lookup goes through the registry's :class:`~soar.enrichment.engine.EnrichmentEngine`:
nothing internal or marked above a provider's limit leaves, answers come from the cache
when they can, identical lookups in flight are one, rates and quotas are kept. Sources
run concurrently, each call bounded by the timeout and the number in flight by the
limits. A source that fails, times out or is skipped costs its own answer only: a
failure becomes a reason on the triage, a skip a line of the observable's combined
verdict, and the triage completes — an alert is never left untriaged because a vendor
was down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity

from soar.alerts.models import Alert, Observable
from soar.enrichment.inventory import Inventory
from soar.enrichment.markings import Markings
from soar.enrichment.models import Enrichment, ObservableVerdict, Tlp, Triage
from soar.enrichment.providers import EnricherRegistry
from soar.enrichment.scoring import triage
from soar.heartbeat import BATCH_HEARTBEAT_EVERY, heartbeating


@dataclass
class EnrichmentRun:
    """What the sources answered, a readable line for each one that failed, and each
    observable's combined verdict."""

    enrichments: list[Enrichment] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    verdicts: list[ObservableVerdict] = field(default_factory=list)


async def run_enrichers(
    registry: EnricherRegistry,
    observables: Sequence[Observable],
    *,
    tlp: Tlp | None = None,
    fresh: bool = False,
) -> EnrichmentRun:
    """Every supporting source on every observable, through the registry's engine;
    never raises for a source's failure. Answers keep the order of observables, then of
    sources. `tlp` is the observables' marking (default: `enrichment.default_tlp`)."""
    run = EnrichmentRun()
    for report in await registry.engine.run(observables, tlp=tlp, fresh=fresh):
        run.enrichments.extend(report.enrichments)
        run.failures.extend(report.failures)
        if report.verdict is not None:
            run.verdicts.append(report.verdict)
    return run


class TriageActivities:
    """Triage with the given inventory and enrichers; register `triage_alert` on a worker.
    `markings` gives each alert's TLP (default: every alert at the registry's
    `default_tlp`)."""

    def __init__(
        self,
        inventory: Inventory,
        registry: EnricherRegistry,
        *,
        markings: Markings | None = None,
    ) -> None:
        self.inventory = inventory
        self.registry = registry
        self.markings = markings or Markings(default=registry.settings.default_tlp)

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of this class, for a worker."""
        return [self.triage_alert, self.triage_alerts]

    @activity.defn(name="triage_alert")
    async def triage_alert(self, alert: Alert) -> Triage:
        """Enrich the alert's observables and score it; provider failures become reasons."""
        run = await run_enrichers(self.registry, alert.observables, tlp=self.markings.of(alert))
        result = triage(alert, run.enrichments, self.inventory, verdicts=run.verdicts)
        return result.model_copy(update={"reasons": [*result.reasons, *run.failures]})

    @activity.defn(name="triage_alerts")
    async def triage_alerts(self, alerts: list[Alert]) -> list[Triage]:
        """Triage a batch of a case's alerts at once, in order (lookups of the same
        observable are shared and cached by the enrichment engine). It heartbeats while
        slow lookups run, so a lost completion is retried in seconds, not minutes."""
        async with heartbeating(BATCH_HEARTBEAT_EVERY):
            return list(await asyncio.gather(*(self.triage_alert(alert) for alert in alerts)))

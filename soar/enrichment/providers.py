"""Enrichment providers: the interface vendor integrations implement, and the registry.

An :class:`Enricher` answers for the observables it supports and may answer nothing
(`None`: "not seen", no opinion). Triage runs every enricher that supports an
observable, so a provider only needs to know its own vendor. Integrations make their
enrichers from configuration through an :data:`EnricherFactory` registered under a
type name; :func:`build_enricher_registry` turns the `enrichment` settings into the
enrichers to run. The internal :class:`AddressEnricher` needs no vendor and runs unless
it is switched off.

Every lookup goes through the registry's :class:`~soar.enrichment.engine.EnrichmentEngine`
(what may leave, markings, cache, limits, quotas). An enricher built from
:class:`~integrations.core.enrichment.EnricherOptions` exposes them as `options`, which
is where the engine reads its `max_tlp`, time-to-live, rate and quota; one that reaches
nothing outside the product says so with `local = True`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from soar.alerts.models import Observable, ObservableType
from soar.enrichment.addresses import classify, describe
from soar.enrichment.engine import EnrichmentEngine
from soar.enrichment.models import AddressClass, Enrichment, Verdict
from soar.enrichment.settings import EnrichmentSettings
from soar.integrations.registry import Factory, Registry, build_members


@runtime_checkable
class Enricher(Protocol):
    """One enrichment provider. `enrich` must not hold secrets in what it returns."""

    @property
    def name(self) -> str:
        """The configured name, shown as the provider of each enrichment."""
        ...

    def supports(self, observable: Observable) -> bool:
        """Whether this provider has anything to say about this kind of observable."""
        ...

    async def enrich(self, observable: Observable) -> Enrichment | None:
        """The provider's answer, or `None` when it knows nothing about the observable."""
        ...


EnricherFactory = Factory[Enricher]
"""Makes an enricher from its configured name and its `options`."""


class AddressEnricher:
    """The internal enricher: the class of an IP address.

    It gives no verdict — a private address is not innocent, only not blockable at the
    edge — but its `data` says whether the address is `actionable` (public), which is
    what a playbook checks before it asks to block.
    """

    name = "address"
    local = True

    def supports(self, observable: Observable) -> bool:
        return observable.type is ObservableType.IP

    async def enrich(self, observable: Observable) -> Enrichment | None:
        try:
            address_class = classify(observable.value)
        except ValueError:
            return None
        return Enrichment(
            provider=self.name,
            observable=observable,
            reasons=[describe(observable.value, address_class)],
            verdict=Verdict.UNKNOWN,
            data={
                "address_class": address_class.value,
                "actionable": address_class is AddressClass.PUBLIC,
            },
        )


class EnricherRegistry(Registry[Enricher]):
    """The enrichers to run, in configuration order, and the engine every lookup of them
    goes through. `settings` are the `[enrichment]` limits and what never leaves; the
    two keywords are shorthands for its `timeout_seconds` and `max_concurrency`."""

    def __init__(
        self,
        enrichers: Sequence[Enricher] = (),
        *,
        timeout_seconds: float = 10.0,
        max_concurrency: int = 8,
        settings: EnrichmentSettings | None = None,
    ) -> None:
        super().__init__(enrichers)
        self.settings = settings or EnrichmentSettings(
            timeout_seconds=timeout_seconds, max_concurrency=max_concurrency
        )
        self.engine = EnrichmentEngine(self.members, self.settings)

    @property
    def timeout_seconds(self) -> float:
        return self.settings.timeout_seconds

    @property
    def max_concurrency(self) -> int:
        return self.settings.max_concurrency

    def for_observable(self, observable: Observable) -> list[Enricher]:
        """The enrichers that support this observable."""
        return [enricher for enricher in self.members if enricher.supports(observable)]


def build_enricher_registry(
    settings: EnrichmentSettings, factories: Mapping[str, EnricherFactory] | None = None
) -> EnricherRegistry:
    """The registry for the settings. A provider whose type no factory makes is an error."""
    enrichers: list[Enricher] = [AddressEnricher()] if settings.address_classifier else []
    enrichers += build_members("enrichment.providers", settings.providers, factories or {})
    return EnricherRegistry(enrichers, settings=settings)

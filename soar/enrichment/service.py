"""Look one value up on demand: `soar enrich VALUE` and `GET /api/enrichment`, written once.

An operator's lookup goes through the same guarded engine as triage — the same cache in
the case store, the same quotas, nothing internal or marked above a provider's limit
sent out — and answers with every source's line (cached or fresh, skipped or failed
and why) and the combined verdict. The type is guessed from the value when not given
(an IP, a URL, an email address, a hash, else a domain).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy.engine import URL, make_url

from soar.alerts.models import Observable, ObservableRole, ObservableType
from soar.enrichment.cache import QuotaState, StoreBook, remaining_quota
from soar.enrichment.inventory import Inventory, load_inventory
from soar.enrichment.models import Enrichment, ObservableVerdict, Tlp
from soar.enrichment.observables import guess_type
from soar.enrichment.providers import EnricherRegistry
from soar.settings import Settings
from soar.store.db import Store
from soar.store.repository import Repository


class EnrichmentLookup(BaseModel):
    """The answer to an operator's lookup of one value."""

    observable: Observable
    guessed_type: bool = Field(description="The type was guessed from the value.")
    fresh: bool = Field(description="The cache was bypassed: every source was asked now.")
    verdict: ObservableVerdict
    local: list[Enrichment] = Field(
        default_factory=list,
        description="What sources inside the product said (the address classifier).",
    )
    failures: list[str] = Field(default_factory=list)


class EnrichmentService:
    """On-demand lookups through a registry's engine."""

    def __init__(self, registry: EnricherRegistry) -> None:
        self.registry = registry

    @classmethod
    def from_settings(
        cls, settings: Settings, store: Repository, registry: EnricherRegistry
    ) -> EnrichmentService:
        """The service over the configured sources (`registry`, as the integrations
        build it), keeping answers in `store` and reading the configured inventory."""
        inventory = (
            load_inventory(settings.inventory_file) if settings.inventory_file else Inventory()
        )
        registry.engine.use(
            book=StoreBook(store, memory_entries=settings.enrichment.cache_entries),
            inventory=inventory,
        )
        return cls(registry)

    async def lookup(
        self,
        value: str,
        kind: ObservableType | None = None,
        *,
        fresh: bool = False,
        tlp: Tlp | None = None,
    ) -> EnrichmentLookup:
        """Every source's answer about `value` and the combined verdict (see the module
        docstring). `tlp` marks the value (default: `enrichment.default_tlp`)."""
        observable = Observable(
            type=kind or guess_type(value), value=value, role=ObservableRole.RELATED
        )
        report = await self.registry.engine.lookup(observable, tlp=tlp, fresh=fresh, always=True)
        assert report.verdict is not None  # `always` gives one
        outside = {source.provider for source in report.verdict.sources}
        return EnrichmentLookup(
            observable=report.verdict.observable,
            guessed_type=kind is None,
            fresh=fresh,
            verdict=report.verdict,
            local=[e for e in report.enrichments if e.provider not in outside],
            failures=report.failures,
        )

    async def aclose(self) -> None:
        """Keep the answers still being written, and close the sources' connections."""
        await self.registry.engine.flush()
        for enricher in self.registry:
            close = getattr(enricher, "aclose", None)
            if close is not None:
                await close()


def _no_sqlite_file(url: URL) -> bool:
    """Whether the store is a SQLite file that does not exist yet."""
    return url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file()


async def quota_today(settings: Settings, provider: str, daily_quota: int | None) -> str | None:
    """The line `soar integrations check NAME` shows for a provider with a daily quota:
    how much of today's is used, counted in the case store by every worker. Reads only:
    a store that is not there yet (or not reachable) is said so, not created."""
    if daily_quota is None:
        return None
    url = make_url(settings.resolved_database_url())
    if _no_sqlite_file(url):
        return QuotaState(limit=daily_quota, used=0).line()  # nothing counted anywhere yet
    store = Store(url)
    try:
        state = await remaining_quota(StoreBook(store), provider, daily_quota)
    except Exception as error:  # an unreachable store: the check still answers
        return (
            f"daily quota: {daily_quota} a day; today's count is not readable "
            f"({type(error).__name__})"
        )
    finally:
        await store.close()
    return state.line() if state is not None else None

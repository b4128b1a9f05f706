"""What the engine tests share: real vendor enrichers against their emulators, a slow
intel service of the tests' own (to watch calls in flight), a store on a file, alerts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import Field

from integrations.abuseipdb import AbuseIpdbEnricher, AbuseIpdbOptions
from integrations.core.enrichment import EnricherOptions
from integrations.core.http import VendorHttp
from integrations.greynoise import GreyNoiseEnricher, GreyNoiseOptions
from soar.alerts.models import (
    Alert,
    Observable,
    ObservableRole,
    ObservableType,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.enrichment.cache import StoreBook
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import Enrichment, Tlp, Verdict
from soar.enrichment.providers import AddressEnricher, Enricher, EnricherRegistry
from soar.enrichment.settings import EnrichmentSettings
from soar.store.db import Store
from soar.testing.emulators.abuseipdb import AbuseIpdbEmulator
from soar.testing.emulators.base import VendorEmulator
from soar.testing.emulators.greynoise import GreyNoiseEmulator

BAD = "45.155.205.233"
"""An address both emulators know as malicious."""


def abuseipdb(emulator: AbuseIpdbEmulator, name: str = "abuseipdb", **options: Any) -> Enricher:
    """An AbuseIPDB enricher against the emulator (observables up to TLP:GREEN)."""
    settings: dict[str, Any] = {
        "base_url": emulator.base_url,
        "api_key": emulator.key,
        "max_retries": 0,
    }
    return AbuseIpdbEnricher(name, AbuseIpdbOptions.model_validate(settings | options))


def greynoise(emulator: GreyNoiseEmulator, name: str = "greynoise", **options: Any) -> Enricher:
    """A GreyNoise enricher against the emulator (observables up to TLP:GREEN)."""
    settings: dict[str, Any] = {
        "base_url": emulator.base_url,
        "api_key": emulator.key,
        "max_retries": 0,
    }
    return GreyNoiseEnricher(name, GreyNoiseOptions.model_validate(settings | options))


def registry(
    *enrichers: Enricher,
    store: Store | None = None,
    inventory: Inventory | None = None,
    **settings: Any,
) -> EnricherRegistry:
    """The address classifier and `enrichers`, observables marked green by default, the
    answers kept in `store` when given."""
    configured = EnrichmentSettings.model_validate({"default_tlp": "green"} | settings)
    built = EnricherRegistry([AddressEnricher(), *enrichers], settings=configured)
    built.engine.use(
        book=StoreBook(store) if store is not None else None, inventory=inventory or Inventory()
    )
    return built


async def open_store(path: Path) -> Store:
    store = Store(f"sqlite+aiosqlite:///{path}")
    await store.migrate()
    return store


async def close(registry: EnricherRegistry) -> None:
    """Keep the answers still being written and close the sources' connections."""
    await registry.engine.flush()
    for enricher in registry:
        closing = getattr(enricher, "aclose", None)
        if closing is not None:
            await closing()


def ip(value: str, role: ObservableRole = ObservableRole.SOURCE) -> Observable:
    return Observable(type=ObservableType.IP, value=value, role=role)


def alert(
    *observables: Observable, key: str = "1", marking: str | None = None, source: str = "test"
) -> Alert:
    return make_alert(
        source=source,
        native_key=key,
        title="test alert",
        severity=SeverityInfo(level=Severity.MEDIUM),
        time=datetime(2026, 1, 1, tzinfo=UTC),
        observables=list(observables),
        marking=marking,
    )


def public_ips(count: int, third: int = 7) -> list[str]:
    """Distinct public addresses no emulator is seeded with."""
    return [f"81.2.{third}.{n + 1}" for n in range(count)]


class SlowIntel(VendorEmulator):
    """An intel service of the tests: `GET /ip/{ip}` answers after `delay` seconds and
    counts the requests in flight at once."""

    def __init__(self, delay: float = 0.1) -> None:
        super().__init__()
        self.delay = delay
        self.in_flight = 0
        self.most_in_flight = 0

    @property
    def lookups(self) -> int:
        return len(self.calls)

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/ip/{ip}", self._ip)]

    async def _ip(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        return web.json_response({"ip": request.match_info["ip"], "bad": True})


class SlowIntelOptions(EnricherOptions):
    max_tlp: Tlp = Field(default=Tlp.AMBER)


class SlowIntelEnricher:
    """Calls :class:`SlowIntel` over real HTTP; every answer is malicious."""

    def __init__(self, name: str, options: SlowIntelOptions) -> None:
        self.name = name
        self.options = options
        self.http = VendorHttp(name, options)

    def supports(self, observable: Observable) -> bool:
        return observable.type is ObservableType.IP

    async def enrich(self, observable: Observable) -> Enrichment:
        body = await self.http.json("GET", f"/ip/{observable.value}")
        return Enrichment(
            provider=self.name,
            observable=observable,
            verdict=Verdict.MALICIOUS,
            score=90,
            reasons=[f"slow intel lists {body['ip']}"],
            data={"raw": body},
        )

    async def aclose(self) -> None:
        await self.http.aclose()


def slow_intel(emulator: SlowIntel, **options: Any) -> SlowIntelEnricher:
    return SlowIntelEnricher(
        "slow",
        SlowIntelOptions.model_validate(
            {"base_url": emulator.base_url, "max_retries": 0} | options
        ),
    )


def providers(answers: Sequence[Any]) -> list[str]:
    return [answer.provider for answer in answers]

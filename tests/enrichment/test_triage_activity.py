"""The triage activity: enrichers run concurrently, and a failing one never fails triage."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from soar.alerts.models import (
    Alert,
    Observable,
    ObservableRole,
    ObservableType,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.enrichment.activities import TriageActivities
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import Enrichment, Verdict
from soar.enrichment.providers import (
    AddressEnricher,
    Enricher,
    EnricherRegistry,
    build_enricher_registry,
)
from soar.enrichment.settings import EnricherSettings, EnrichmentSettings


class StubEnricher:
    """Answers `verdict` for IPs after `delay` seconds, or raises `error`."""

    def __init__(
        self,
        name: str,
        verdict: Verdict = Verdict.UNKNOWN,
        *,
        delay: float = 0.0,
        error: Exception | None = None,
    ) -> None:
        self.name = name
        self.verdict = verdict
        self.delay = delay
        self.error = error
        self.in_flight = 0
        self.most_in_flight = 0

    def supports(self, observable: Observable) -> bool:
        return observable.type is ObservableType.IP

    async def enrich(self, observable: Observable) -> Enrichment | None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.error is not None:
                raise self.error
            return Enrichment(
                provider=self.name, observable=observable, verdict=self.verdict, score=90
            )
        finally:
            self.in_flight -= 1


def alert(*ips: str) -> Alert:
    return make_alert(
        source="test",
        native_key="1",
        title="test alert",
        severity=SeverityInfo(level=Severity.MEDIUM),
        time=datetime(2026, 1, 1, tzinfo=UTC),
        observables=[
            Observable(type=ObservableType.IP, value=value, role=ObservableRole.SOURCE)
            for value in ips
        ],
    )


async def test_failing_and_slow_enrichers_become_reasons_and_triage_completes() -> None:
    registry = EnricherRegistry(
        [
            StubEnricher("broken", error=RuntimeError("vendor said 500")),
            StubEnricher("slow", delay=5.0),
            StubEnricher("intel", Verdict.MALICIOUS),
        ],
        timeout_seconds=0.2,
    )

    result = await TriageActivities(Inventory(), registry).triage_alert(alert("8.8.8.8"))

    assert result.verdict is Verdict.MALICIOUS
    assert [e.provider for e in result.enrichments] == ["intel"]
    assert "enricher broken failed on 8.8.8.8: RuntimeError: vendor said 500" in result.reasons
    assert "enricher slow timed out on 8.8.8.8 after 0.2 s" in result.reasons


async def test_enrichers_run_concurrently_within_the_limit() -> None:
    slow = StubEnricher("slow", delay=0.2)
    registry = EnricherRegistry([slow], max_concurrency=3)
    ips = [f"8.8.8.{n}" for n in range(6)]

    started = asyncio.get_running_loop().time()
    result = await TriageActivities(Inventory(), registry).triage_alert(alert(*ips))
    elapsed = asyncio.get_running_loop().time() - started

    assert slow.most_in_flight == 3
    assert elapsed < 1.0
    assert [e.observable.value for e in result.enrichments] == ips


async def test_the_address_enricher_marks_public_addresses_actionable() -> None:
    enricher = AddressEnricher()
    public = Observable(type=ObservableType.IP, value="8.8.8.8")
    documentation = Observable(type=ObservableType.IP, value="203.0.113.9")

    public_answer = await enricher.enrich(public)
    documentation_answer = await enricher.enrich(documentation)

    assert public_answer is not None
    assert documentation_answer is not None
    assert public_answer.data == {"address_class": "public", "actionable": True}
    assert documentation_answer.data == {"address_class": "documentation", "actionable": False}
    assert documentation_answer.reasons == ["203.0.113.9 is a documentation address"]
    assert not enricher.supports(Observable(type=ObservableType.DOMAIN, value="example.com"))


def test_the_default_registry_holds_only_the_address_classifier() -> None:
    registry = build_enricher_registry(EnrichmentSettings())

    assert [enricher.name for enricher in registry.members] == ["address"]
    assert isinstance(registry.members[0], Enricher)
    assert build_enricher_registry(EnrichmentSettings(address_classifier=False)).members == ()


def test_configured_providers_come_from_their_factories() -> None:
    made: list[tuple[str, Mapping[str, Any]]] = []

    def factory(name: str, options: Mapping[str, Any]) -> Enricher:
        made.append((name, options))
        return StubEnricher(name)

    settings = EnrichmentSettings(
        providers={"abuse": EnricherSettings(type="abuseipdb", options={"max_age_days": 90})}
    )

    registry = build_enricher_registry(settings, {"abuseipdb": factory})

    assert [enricher.name for enricher in registry.members] == ["address", "abuse"]
    assert made == [("abuse", {"max_age_days": 90})]
    with pytest.raises(ValueError, match=r"providers\.abuse\.type: 'abuseipdb' is not a type"):
        build_enricher_registry(settings)


def test_provider_options_never_show_in_a_repr() -> None:
    settings = EnricherSettings(type="vt", options={"api_key": "s3cret"})

    assert "s3cret" not in repr(settings)

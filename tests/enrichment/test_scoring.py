"""Triage scores and the reasons behind them."""

from __future__ import annotations

from datetime import UTC, datetime

from soar.alerts.models import (
    Alert,
    Observable,
    ObservableRole,
    ObservableType,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import (
    AddressClass,
    AssetContext,
    Criticality,
    Enrichment,
    IdentityContext,
    Verdict,
)
from soar.enrichment.scoring import triage

INVENTORY = Inventory(
    hosts=[
        AssetContext(hostname="fin-laptop-07", owner="j.doe", criticality=Criticality.CRITICAL),
        AssetContext(hostname="kiosk-1", criticality=Criticality.LOW),
    ],
    users=[IdentityContext(user="j.doe", team="finance", manager="a.smith", vip=True)],
)


def alert(severity: Severity, *observables: Observable) -> Alert:
    return make_alert(
        source="test",
        native_key="1",
        title="test alert",
        severity=SeverityInfo(level=severity),
        time=datetime(2026, 1, 1, tzinfo=UTC),
        observables=list(observables),
    )


def ip(value: str, role: ObservableRole = ObservableRole.SOURCE) -> Observable:
    return Observable(type=ObservableType.IP, value=value, role=role)


def opinion(value: str, verdict: Verdict, score: int, provider: str = "intel") -> Enrichment:
    return Enrichment(
        provider=provider, observable=ip(value), verdict=verdict, score=score, reasons=[]
    )


def test_severity_alone_sets_the_score_and_the_verdict_stays_unknown() -> None:
    result = triage(alert(Severity.MEDIUM), [], Inventory())

    assert result.score == 40
    assert result.verdict is Verdict.UNKNOWN
    assert result.reasons == ["alert severity is medium"]


def test_critical_host_and_vip_user_raise_the_score_with_readable_reasons() -> None:
    result = triage(
        alert(
            Severity.HIGH,
            Observable(type=ObservableType.HOSTNAME, value="FIN-LAPTOP-07.corp.example"),
            Observable(type=ObservableType.USER, value="CORP\\j.doe"),
            ip("8.8.8.8"),
        ),
        [],
        INVENTORY,
    )

    assert result.score == 55 + 15 + 10
    assert result.verdict is Verdict.MALICIOUS
    assert "host fin-laptop-07 is critical (owner j.doe)" in result.reasons
    assert "user j.doe is a VIP (team finance, manager a.smith)" in result.reasons
    assert "8.8.8.8 is a public address" in result.reasons
    assert [asset.hostname for asset in result.assets] == ["fin-laptop-07"]
    assert [identity.user for identity in result.identities] == ["j.doe"]


def test_documentation_and_private_sources_lower_the_score() -> None:
    result = triage(
        alert(
            Severity.HIGH,
            ip("203.0.113.9"),
            ip("10.0.0.5"),
            ip("8.8.4.4", ObservableRole.DESTINATION),
        ),
        [],
        Inventory(),
    )

    assert result.score == 55 - 15
    assert "203.0.113.9 is a documentation address" in result.reasons
    assert "10.0.0.5 is a private address" in result.reasons
    assert "no source address is public: nothing outside to block" in result.reasons
    assert result.address_classes == {
        "203.0.113.9": AddressClass.DOCUMENTATION,
        "10.0.0.5": AddressClass.PRIVATE,
        "8.8.4.4": AddressClass.PUBLIC,
    }


def test_a_public_source_keeps_the_score() -> None:
    result = triage(alert(Severity.HIGH, ip("8.8.8.8"), ip("10.0.0.5")), [], Inventory())

    assert result.score == 55


def test_a_malicious_opinion_makes_the_verdict_malicious_and_counts_once() -> None:
    enrichments = [
        opinion("8.8.8.8", Verdict.MALICIOUS, 97, "abuseipdb"),
        opinion("8.8.8.8", Verdict.MALICIOUS, 80, "greynoise"),
        opinion("8.8.8.8", Verdict.BENIGN, 0, "other"),
    ]

    result = triage(alert(Severity.LOW, ip("8.8.8.8")), enrichments, Inventory())

    assert result.score == 20 + 25
    assert result.verdict is Verdict.MALICIOUS
    assert "abuseipdb rates 8.8.8.8 malicious (97/100)" in result.reasons
    assert "other rates 8.8.8.8 benign (0/100)" in result.reasons
    assert result.enrichments == enrichments


def test_benign_needs_a_benign_opinion() -> None:
    benign = triage(
        alert(Severity.LOW, ip("8.8.8.8")), [opinion("8.8.8.8", Verdict.BENIGN, 0)], Inventory()
    )
    suspicious = triage(
        alert(Severity.LOW, ip("8.8.8.8")),
        [opinion("8.8.8.8", Verdict.SUSPICIOUS, 60)],
        Inventory(),
    )

    assert (benign.score, benign.verdict) == (5, Verdict.BENIGN)
    assert (suspicious.score, suspicious.verdict) == (30, Verdict.SUSPICIOUS)


def test_the_score_stays_within_0_and_100() -> None:
    low = triage(
        alert(Severity.INFORMATIONAL, ip("10.0.0.1")),
        [opinion("10.0.0.1", Verdict.BENIGN, 0)],
        Inventory(),
    )
    high = triage(
        alert(
            Severity.CRITICAL,
            Observable(type=ObservableType.HOSTNAME, value="fin-laptop-07"),
            Observable(type=ObservableType.EMAIL, value="j.doe@corp.example"),
        ),
        [opinion("8.8.8.8", Verdict.MALICIOUS, 100)],
        INVENTORY,
    )

    assert low.score == 0
    assert high.score == 100


def test_provider_reasons_are_kept_once_and_an_invalid_ip_is_reported() -> None:
    repeated = Enrichment(
        provider="address",
        observable=ip("203.0.113.9"),
        reasons=["203.0.113.9 is a documentation address"],
    )

    result = triage(alert(Severity.LOW, ip("203.0.113.9"), ip("not-an-ip")), [repeated], INVENTORY)

    assert result.reasons.count("203.0.113.9 is a documentation address") == 1
    assert "not-an-ip is not a valid IP address" in result.reasons
    assert "not-an-ip" not in result.address_classes


def test_a_low_criticality_host_adds_nothing() -> None:
    result = triage(
        alert(Severity.MEDIUM, Observable(type=ObservableType.HOSTNAME, value="kiosk-1")),
        [],
        INVENTORY,
    )

    assert result.score == 40
    assert [asset.hostname for asset in result.assets] == ["kiosk-1"]

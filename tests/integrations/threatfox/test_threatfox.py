"""The ThreatFox enricher against the ThreatFox emulator over real HTTP: the enricher
contract on an IP with a C&C port, then ThreatFox's own ways — confidence to
verdicts, an IP's `ip:port` IOCs, only equal IOCs counted (the search also returns
those that merely contain the value), each observable type, threat types in words,
`no_result` as unknown, errors inside 200 answers, a refused Auth-Key with 401 or
inside a 200, throttling, outages, the check, and the links."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from integrations.threatfox import INTEGRATION, ThreatfoxEnricher, ThreatfoxOptions
from integrations.threatfox.client import ThreatfoxClient, check
from soar.alerts.models import Observable, ObservableType
from soar.enrichment.models import Enrichment, Tlp, Verdict
from soar.integrations.errors import (
    CredentialsRejected,
    RequestRejected,
    TransientError,
)
from soar.runtime.integrations import installed, options_of
from soar.testing.contract import EnricherContract
from soar.testing.emulators.threatfox import ThreatfoxEmulator

BAD_IP = "45.83.1.2"
BAD_KEY = "1" * 48
WEB = "https://threatfox.abuse.ch"


def options(threatfox: ThreatfoxEmulator, **extra: object) -> ThreatfoxOptions:
    settings: dict[str, object] = {
        "base_url": threatfox.base_url,
        "api_key": threatfox.key,
        "max_wait_seconds": 5,
    }
    settings.update(extra)
    return ThreatfoxOptions.model_validate(settings)


def ip(value: str) -> Observable:
    return Observable(type=ObservableType.IP, value=value)


@pytest.fixture
async def service() -> AsyncIterator[ThreatfoxEmulator]:
    threatfox = ThreatfoxEmulator()
    threatfox.add_ioc(f"{BAD_IP}:443", "ip:port", tags=["c2", "cobaltstrike"])
    threatfox.secrets.append(BAD_KEY)
    async with threatfox:
        yield threatfox


@pytest.fixture
async def enricher(service: ThreatfoxEmulator) -> AsyncIterator[ThreatfoxEnricher]:
    made = ThreatfoxEnricher("threatfox-test", options(service))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_enricher(
    service: ThreatfoxEmulator,
) -> AsyncIterator[ThreatfoxEnricher]:
    made = ThreatfoxEnricher("threatfox-test", options(service, api_key=BAD_KEY))
    yield made
    await made.aclose()


@pytest.fixture
def malicious() -> Observable:
    return ip(BAD_IP)


@pytest.fixture
def unknown() -> Observable:
    return ip("45.83.9.9")


@pytest.fixture
def unsupported() -> Observable:
    return Observable(type=ObservableType.EMAIL, value="boss@evil.example")


class TestThreatfoxContract(EnricherContract):
    """The contract every enricher keeps, on an IP ThreatFox lists as a C&C on a port."""


async def enrich_with(
    threatfox: ThreatfoxEmulator, observable: Observable, **extra: object
) -> Enrichment:
    made = ThreatfoxEnricher("threatfox-test", options(threatfox, **extra))
    try:
        return await made.enrich(observable)
    finally:
        await made.aclose()


# The verdict


@pytest.mark.parametrize(
    ("confidence", "verdict", "score"),
    [
        (100, Verdict.MALICIOUS, 100),
        (75, Verdict.MALICIOUS, 75),
        (50, Verdict.SUSPICIOUS, 50),
        (0, Verdict.SUSPICIOUS, 1),
    ],
)
async def test_the_reporters_confidence_makes_the_verdict(
    service: ThreatfoxEmulator,
    enricher: ThreatfoxEnricher,
    confidence: int,
    verdict: Verdict,
    score: int,
) -> None:
    entry = service.add_ioc("198.51.100.4:8080", "ip:port", confidence=confidence)
    found = await enricher.enrich(ip("198.51.100.4"))
    assert (found.verdict, found.score) == (verdict, score)
    assert (
        found.reasons[0] == f"ThreatFox: a botnet C&C of Cobalt Strike (confidence {confidence}%)"
    )
    assert found.link == f"{WEB}/ioc/{entry.id}/"
    assert found.data["confidence"] == confidence


async def test_the_threshold_is_an_option(service: ThreatfoxEmulator) -> None:
    service.add_ioc("198.51.100.4:8080", "ip:port", confidence=50)
    found = await enrich_with(service, ip("198.51.100.4"), malicious_confidence=50)
    assert found.verdict is Verdict.MALICIOUS


async def test_every_port_of_an_ip_counts_and_the_strongest_decides(
    service: ThreatfoxEmulator, enricher: ThreatfoxEnricher
) -> None:
    weaker = service.add_ioc(
        f"{BAD_IP}:8080",
        "ip:port",
        malware="Sliver",
        confidence=50,
        tags=["sliver"],
        last_seen="2024-06-01 08:00:00 UTC",
    )
    found = await enricher.enrich(ip(BAD_IP))
    assert service.queries[-1] == {"query": "search_ioc", "search_term": BAD_IP}
    assert found.data["iocs"] == 2
    assert found.reasons == [
        "ThreatFox: a botnet C&C of Cobalt Strike (confidence 100%)",
        f"2 IOCs: {BAD_IP}:443 (Cobalt Strike, 100%), {BAD_IP}:8080 (Sliver, 50%)",
        "first seen 2024-05-01 10:00:00 UTC",
        "tags: c2, cobaltstrike, sliver",
    ]
    assert found.link != f"{WEB}/ioc/{weaker.id}/"


async def test_iocs_that_only_contain_the_value_do_not_count(
    service: ThreatfoxEmulator, enricher: ThreatfoxEnricher
) -> None:
    service.add_ioc("145.83.1.20:443", "ip:port")
    service.add_ioc("http://evil.example/gate.php", "url", threat_type="payload_delivery")
    other_ip = await enricher.enrich(ip("45.83.1.20"))
    assert other_ip.verdict is Verdict.UNKNOWN
    assert other_ip.reasons == ["not listed in ThreatFox", "1 IOC contains it but none is it"]
    domain = await enricher.enrich(Observable(type=ObservableType.DOMAIN, value="evil.example"))
    assert domain.verdict is Verdict.UNKNOWN
    assert domain.link == f"{WEB}/browse.php?search=ioc%3Aevil.example"


async def test_nothing_known_is_unknown(
    service: ThreatfoxEmulator, enricher: ThreatfoxEnricher
) -> None:
    found = await enricher.enrich(ip("45.83.9.9"))
    assert (found.verdict, found.score) == (Verdict.UNKNOWN, 0)
    assert found.reasons == ["not listed in ThreatFox"]
    assert found.data["raw"]["query_status"] == "no_result"


# Each observable type, and threat types in words


@pytest.mark.parametrize(
    ("kind", "value", "ioc", "ioc_type", "threat_type", "words"),
    [
        (
            ObservableType.DOMAIN,
            "Evil.Example.",
            "evil.example",
            "domain",
            "payload_delivery",
            "ThreatFox: a payload delivery site of Cobalt Strike (confidence 100%)",
        ),
        (
            ObservableType.HOSTNAME,
            "c2.evil.example",
            "c2.evil.example",
            "domain",
            "botnet_cc",
            "ThreatFox: a botnet C&C of Cobalt Strike (confidence 100%)",
        ),
        (
            ObservableType.URL,
            "http://evil.example/gate.php",
            "http://evil.example/gate.php",
            "url",
            "payload_delivery",
            "ThreatFox: a payload delivery site of Cobalt Strike (confidence 100%)",
        ),
        (
            ObservableType.HASH,
            "A" * 32,
            "a" * 32,
            "md5_hash",
            "payload",
            "ThreatFox: a malware payload of Cobalt Strike (confidence 100%)",
        ),
        (
            ObservableType.HASH,
            "b" * 40,
            "b" * 40,
            "sha1_hash",
            "payload",
            "ThreatFox: a malware payload of Cobalt Strike (confidence 100%)",
        ),
        (
            ObservableType.HASH,
            "c" * 64,
            "c" * 64,
            "sha256_hash",
            "cc_skimming",
            "ThreatFox: a card-skimming C&C of Cobalt Strike (confidence 100%)",
        ),
        (
            ObservableType.IP,
            "2001:DB8::7",
            "[2001:db8::7]:443",
            "ip:port",
            "botnet_cc",
            "ThreatFox: a botnet C&C of Cobalt Strike (confidence 100%)",
        ),
    ],
)
async def test_each_observable_type_finds_its_ioc(
    service: ThreatfoxEmulator,
    enricher: ThreatfoxEnricher,
    kind: ObservableType,
    value: str,
    ioc: str,
    ioc_type: str,
    threat_type: str,
    words: str,
) -> None:
    service.add_ioc(ioc, ioc_type, threat_type=threat_type)
    observable = Observable(type=kind, value=value)
    assert enricher.supports(observable)
    found = await enricher.enrich(observable)
    assert found.verdict is Verdict.MALICIOUS
    assert found.reasons[0] == words


async def test_a_threat_type_and_malware_it_does_not_know_are_not_made_up(
    service: ThreatfoxEmulator, enricher: ThreatfoxEnricher
) -> None:
    entry = service.add_ioc(
        "mine.example", "domain", threat_type="miner", malware="Unknown malware"
    )
    entry.confidence_level = 90
    found = await enricher.enrich(Observable(type=ObservableType.DOMAIN, value="mine.example"))
    assert found.reasons[0] == "ThreatFox: a miner IOC (confidence 90%)"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (ObservableType.HASH, "d" * 128),
        (ObservableType.HASH, "q" * 64),
        (ObservableType.IP, "45.83.1"),
        (ObservableType.DOMAIN, "-bad-.example"),
        (ObservableType.URL, "no scheme here"),
        (ObservableType.EMAIL, "boss@evil.example"),
        (ObservableType.USER, "jdoe"),
    ],
)
async def test_what_threatfox_holds_no_ioc_type_for_is_refused_before_any_call(
    service: ThreatfoxEmulator, enricher: ThreatfoxEnricher, kind: ObservableType, value: str
) -> None:
    observable = Observable(type=kind, value=value)
    assert not enricher.supports(observable)
    with pytest.raises(RequestRejected):
        await enricher.enrich(observable)
    assert service.lookups == 0


# Errors inside 200 answers, keys, limits


async def test_an_illegal_search_term_inside_a_200_is_a_rejected_request_asked_once(
    service: ThreatfoxEmulator,
) -> None:
    client = ThreatfoxClient("threatfox-test", options(service))
    try:
        with pytest.raises(RequestRejected) as rejected:
            await client.search_ioc("ab")
        with pytest.raises(RequestRejected, match="unknown_query"):
            await client.http.json("POST", "/api/v1/", json={"query": "nonsense"})
    finally:
        await client.aclose()
    assert str(rejected.value) == (
        "threatfox-test: ThreatFox rejected the query: illegal_search_term: Search term is too "
        "short"
    )
    assert [call.status for call in service.calls] == [200, 200]


@pytest.mark.parametrize("with_200", [False, True])
async def test_a_refused_auth_key_is_one_clear_error_either_way(with_200: bool) -> None:
    async with ThreatfoxEmulator(key_refused_with_200=with_200) as threatfox:
        with pytest.raises(CredentialsRejected) as refused:
            await enrich_with(threatfox, ip(BAD_IP), api_key=BAD_KEY)
        assert threatfox.lookups == 1
        assert threatfox.calls[0].status == (200 if with_200 else 401)
    assert "unknown_auth_key" in str(refused.value)
    assert BAD_KEY not in str(refused.value)


async def test_a_throttle_is_waited_out_with_retry_after(
    service: ThreatfoxEmulator, enricher: ThreatfoxEnricher
) -> None:
    service.throttle(1, seconds=1)
    found = await enricher.enrich(ip(BAD_IP))
    assert found.verdict is Verdict.MALICIOUS
    assert [call.status for call in service.calls] == [429, 200]


async def test_an_outage_is_retried_then_reported_as_transient(
    service: ThreatfoxEmulator,
) -> None:
    service.outage(2)
    assert (await enrich_with(service, ip(BAD_IP))).verdict is Verdict.MALICIOUS
    service.outage(5)
    with pytest.raises(TransientError):
        await enrich_with(service, ip(BAD_IP), max_retries=1)


# The check and the options


async def test_the_check_reads_the_ioc_types(service: ThreatfoxEmulator) -> None:
    lines = await check("threatfox-test", options(service))
    assert lines == [
        f"reached {service.base_url}",
        "Auth-Key accepted; ThreatFox knows 6 IOC types",
    ]
    assert service.queries == [{"query": "types"}]
    with pytest.raises(CredentialsRejected):
        await check("threatfox-test", options(service, api_key=BAD_KEY))


def test_the_integration_is_installed_with_green_and_needs_a_key() -> None:
    found = installed().integrations["threatfox"]
    assert found is INTEGRATION
    assert found.kinds == ["enricher"]
    with pytest.raises(ValueError, match=r"enrichment\.providers\.threatfox\.options\.api_key"):
        options_of(found, "enrichment.providers", "threatfox", {})
    made = options_of(found, "enrichment.providers", "threatfox", {"api_key": BAD_KEY})
    assert isinstance(made, ThreatfoxOptions)
    assert made.max_tlp is Tlp.GREEN
    assert made.base_url == "https://threatfox-api.abuse.ch"
    assert made.malicious_confidence == 75


async def test_nothing_secret_is_in_a_log(
    service: ThreatfoxEmulator,
    enricher: ThreatfoxEnricher,
    bad_credentials_enricher: ThreatfoxEnricher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    service.throttle(1, seconds=1)
    await enricher.enrich(ip(BAD_IP))
    with pytest.raises(CredentialsRejected):
        await bad_credentials_enricher.enrich(ip(BAD_IP))
    assert caplog.records, "the retry after the throttle is logged"
    for secret in service.secrets:
        assert secret not in caplog.text

"""The OTX enricher against the OTX emulator over real HTTP: the enricher contract on an
IP many pulses list, then OTX's own ways — pulse counts to verdicts, what OTX vouches
for, popular sites, each indicator section and its path, OTX's 400/404 for values it
does not take, its 403 for a bad key, an hourly allowance spent (429 with
Retry-After), outages, the check, and the link."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from integrations.otx import INTEGRATION, OtxEnricher, OtxOptions
from integrations.otx.client import OtxClient, check
from soar.alerts.models import Observable, ObservableType
from soar.enrichment.models import Enrichment, Tlp, Verdict
from soar.integrations.errors import (
    CredentialsRejected,
    RateLimited,
    RequestRejected,
    TransientError,
)
from soar.runtime.integrations import installed, options_of
from soar.testing.contract import EnricherContract
from soar.testing.emulators.otx import OtxEmulator

BAD_IP = "45.83.1.2"
BAD_KEY = "f" * 64
WEB = "https://otx.alienvault.com"


def options(otx: OtxEmulator, **extra: object) -> OtxOptions:
    settings: dict[str, object] = {
        "base_url": otx.base_url,
        "api_key": otx.key,
        "max_wait_seconds": 5,
    }
    settings.update(extra)
    return OtxOptions.model_validate(settings)


def ip(value: str) -> Observable:
    return Observable(type=ObservableType.IP, value=value)


@pytest.fixture
async def service() -> AsyncIterator[OtxEmulator]:
    otx = OtxEmulator()
    otx.add_indicator(
        "IPv4",
        BAD_IP,
        pulses=[f"Emotet C2 wave {n}" for n in range(1, 7)],
        malware_families=["Emotet"],
    )
    otx.secrets.append(BAD_KEY)
    async with otx:
        yield otx


@pytest.fixture
async def enricher(service: OtxEmulator) -> AsyncIterator[OtxEnricher]:
    made = OtxEnricher("otx-test", options(service))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_enricher(service: OtxEmulator) -> AsyncIterator[OtxEnricher]:
    made = OtxEnricher("otx-test", options(service, api_key=BAD_KEY))
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


class TestOtxContract(EnricherContract):
    """The contract every enricher keeps, on an IP six pulses list."""


async def enrich_with(otx: OtxEmulator, observable: Observable, **extra: object) -> Enrichment:
    made = OtxEnricher("otx-test", options(otx, **extra))
    try:
        return await made.enrich(observable)
    finally:
        await made.aclose()


def pulses(count: int) -> list[str]:
    return [f"Report {n}" for n in range(1, count + 1)]


# The verdict


@pytest.mark.parametrize(
    ("count", "verdict", "score"),
    [
        (1, Verdict.SUSPICIOUS, 30),
        (2, Verdict.SUSPICIOUS, 40),
        (4, Verdict.SUSPICIOUS, 60),
        (5, Verdict.MALICIOUS, 75),
        (8, Verdict.MALICIOUS, 90),
        (40, Verdict.MALICIOUS, 100),
    ],
)
async def test_the_pulse_count_makes_the_verdict(
    service: OtxEmulator, enricher: OtxEnricher, count: int, verdict: Verdict, score: int
) -> None:
    service.add_indicator("IPv4", "198.51.100.7", pulses=pulses(count))
    found = await enricher.enrich(ip("198.51.100.7"))
    assert (found.verdict, found.score) == (verdict, score)
    assert found.data["pulses"] == count
    assert found.reasons[0].startswith(f"OTX: in {count} pulse")


async def test_the_threshold_is_an_option(service: OtxEmulator) -> None:
    service.add_indicator("domain", "one.example", pulses=pulses(1))
    service.add_indicator("domain", "two.example", pulses=pulses(2))
    one = await enrich_with(
        service, Observable(type=ObservableType.DOMAIN, value="one.example"), malicious_pulses=2
    )
    two = await enrich_with(
        service, Observable(type=ObservableType.DOMAIN, value="two.example"), malicious_pulses=2
    )
    assert (one.verdict, one.score) == (Verdict.SUSPICIOUS, 30)
    assert (two.verdict, two.score) == (Verdict.MALICIOUS, 75)


async def test_the_reason_names_pulses_and_malware_families(
    service: OtxEmulator, enricher: OtxEnricher
) -> None:
    found = await enricher.enrich(ip(BAD_IP))
    assert found.reasons[0] == (
        'OTX: in 6 pulses, e.g. "Emotet C2 wave 1", "Emotet C2 wave 2", "Emotet C2 wave 3"'
    )
    assert found.reasons[1] == "malware families: Emotet"
    assert found.data["malware_families"] == ["Emotet"]
    assert found.data["raw"]["indicator"] == BAD_IP


async def test_the_count_is_otxs_even_when_it_lists_fewer_pulses(
    service: OtxEmulator, enricher: OtxEnricher
) -> None:
    service.add_indicator("IPv4", "198.51.100.9", pulses=pulses(10), pulse_count=57)
    found = await enricher.enrich(ip("198.51.100.9"))
    assert found.data["pulses"] == 57 and found.score == 100
    assert found.reasons[0].startswith("OTX: in 57 pulses, e.g.")


async def test_nobody_reporting_it_is_unknown_with_the_page_linked(
    service: OtxEmulator, enricher: OtxEnricher
) -> None:
    found = await enricher.enrich(ip("45.83.9.9"))
    assert (found.verdict, found.score) == (Verdict.UNKNOWN, 0)
    assert found.reasons == ["OTX: in no pulse"]
    assert found.link == f"{WEB}/indicator/ip/45.83.9.9"


@pytest.mark.parametrize(
    ("validation", "false_positive", "words"),
    [
        (
            [
                {
                    "source": "whitelist",
                    "message": "Whitelisted domain google.com",
                    "name": "Whitelisted domain",
                }
            ],
            [],
            "OTX vouches for it: Whitelisted domain google.com",
        ),
        (
            [
                {
                    "source": "false_positive",
                    "message": "Known False Positive",
                    "name": "Known False Positive",
                }
            ],
            [],
            "OTX vouches for it: Known False Positive",
        ),
        (
            [],
            [
                {
                    "assessment": "accepted",
                    "assessment_date": "2024-01-02",
                    "report_date": "2024-01-01",
                }
            ],
            "OTX vouches for it: a false-positive report OTX accepted",
        ),
    ],
)
async def test_what_otx_vouches_for_is_benign_whatever_pulses_list_it(
    service: OtxEmulator,
    enricher: OtxEnricher,
    validation: list[dict[str, str]],
    false_positive: list[dict[str, str]],
    words: str,
) -> None:
    service.add_indicator(
        "domain",
        "google.com",
        pulses=pulses(30),
        validation=validation,
        false_positive=false_positive,
    )
    found = await enricher.enrich(Observable(type=ObservableType.DOMAIN, value="google.com"))
    assert (found.verdict, found.score) == (Verdict.BENIGN, 0)
    assert found.reasons == [words]


async def test_a_rejected_false_positive_report_does_not_vouch(
    service: OtxEmulator, enricher: OtxEnricher
) -> None:
    service.add_indicator(
        "domain", "bad.example", pulses=pulses(6), false_positive=[{"assessment": "rejected"}]
    )
    found = await enricher.enrich(Observable(type=ObservableType.DOMAIN, value="bad.example"))
    assert found.verdict is Verdict.MALICIOUS


async def test_a_popular_site_is_at_most_suspicious(
    service: OtxEmulator, enricher: OtxEnricher
) -> None:
    service.add_indicator(
        "domain",
        "cdn.example",
        pulses=pulses(9),
        validation=[
            {"source": "akamai", "message": "Akamai rank: #3", "name": "Akamai Popular Domain"}
        ],
    )
    found = await enricher.enrich(Observable(type=ObservableType.DOMAIN, value="cdn.example"))
    assert (found.verdict, found.score) == (Verdict.SUSPICIOUS, 60)
    assert "a popular site (Akamai rank: #3): its pulses may be noise" in found.reasons


# Each indicator section


@pytest.mark.parametrize(
    ("kind", "value", "path", "link"),
    [
        (
            ObservableType.IP,
            "45.83.9.9",
            "/api/v1/indicators/IPv4/45.83.9.9/general",
            f"{WEB}/indicator/ip/45.83.9.9",
        ),
        (
            ObservableType.IP,
            "2001:DB8:0::7",
            "/api/v1/indicators/IPv6/2001:db8::7/general",
            f"{WEB}/indicator/ip/2001%3Adb8%3A%3A7",
        ),
        (
            ObservableType.DOMAIN,
            "Evil.Example.",
            "/api/v1/indicators/domain/evil.example/general",
            f"{WEB}/indicator/domain/evil.example",
        ),
        (
            ObservableType.HOSTNAME,
            "c2.evil.example",
            "/api/v1/indicators/hostname/c2.evil.example/general",
            f"{WEB}/indicator/hostname/c2.evil.example",
        ),
        (
            ObservableType.URL,
            "https://evil.example/a b?x=1&y=%41#top",
            "/api/v1/indicators/url/https://evil.example/a b?x=1&y=%41#top/general",
            f"{WEB}/indicator/url/https%3A%2F%2Fevil.example%2Fa%20b%3Fx%3D1%26y%3D%2541%23top",
        ),
        (
            ObservableType.HASH,
            "D41D8CD98F00B204E9800998ECF8427E",
            "/api/v1/indicators/file/d41d8cd98f00b204e9800998ecf8427e/general",
            f"{WEB}/indicator/file/d41d8cd98f00b204e9800998ecf8427e",
        ),
        (
            ObservableType.HASH,
            "a" * 40,
            f"/api/v1/indicators/file/{'a' * 40}/general",
            f"{WEB}/indicator/file/{'a' * 40}",
        ),
        (
            ObservableType.HASH,
            "b" * 64,
            f"/api/v1/indicators/file/{'b' * 64}/general",
            f"{WEB}/indicator/file/{'b' * 64}",
        ),
    ],
)
async def test_each_observable_type_is_asked_in_its_section(
    service: OtxEmulator,
    enricher: OtxEnricher,
    kind: ObservableType,
    value: str,
    path: str,
    link: str,
) -> None:
    observable = Observable(type=kind, value=value)
    assert enricher.supports(observable)
    found = await enricher.enrich(observable)
    assert found.verdict is Verdict.UNKNOWN
    assert service.calls[-1].path == path
    assert found.link == link


async def test_a_seeded_url_and_hash_are_found_in_their_sections(
    service: OtxEmulator, enricher: OtxEnricher
) -> None:
    service.add_indicator("url", "http://evil.example/gate.php?id=7", pulses=pulses(5))
    service.add_indicator("file", "c" * 64, pulses=pulses(2))
    url = await enricher.enrich(
        Observable(type=ObservableType.URL, value="http://evil.example/gate.php?id=7")
    )
    digest = await enricher.enrich(Observable(type=ObservableType.HASH, value="C" * 64))
    assert url.verdict is Verdict.MALICIOUS
    assert digest.verdict is Verdict.SUSPICIOUS


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (ObservableType.HASH, "c" * 128),
        (ObservableType.HASH, "xyz"),
        (ObservableType.IP, "300.1.1.1"),
        (ObservableType.DOMAIN, "no_tld"),
        (ObservableType.URL, "ftp://evil.example/file"),
        (ObservableType.EMAIL, "boss@evil.example"),
        (ObservableType.USER, "jdoe"),
    ],
)
async def test_what_otx_does_not_index_is_refused_before_any_call(
    service: OtxEmulator, enricher: OtxEnricher, kind: ObservableType, value: str
) -> None:
    observable = Observable(type=kind, value=value)
    assert not enricher.supports(observable)
    with pytest.raises(RequestRejected):
        await enricher.enrich(observable)
    assert service.lookups == 0


# Errors


@pytest.mark.parametrize(
    ("section", "value", "status", "words"),
    [
        ("IPv4", "not-an-ip", 400, "Invalid IPv4 indicator"),
        ("IPv6", "45.83.1.2", 400, "Invalid IPv6 indicator"),
        ("email", "boss@evil.example", 404, "Not found."),
    ],
)
async def test_a_value_otx_does_not_take_is_a_rejected_request_asked_once(
    service: OtxEmulator, section: str, value: str, status: int, words: str
) -> None:
    client = OtxClient("otx-test", options(service))
    try:
        with pytest.raises(RequestRejected) as rejected:
            await client.general(section, value)
    finally:
        await client.aclose()
    assert rejected.value.status == status
    assert words in str(rejected.value)
    assert service.lookups == 1


async def test_otxs_403_for_a_bad_key_is_a_refused_credential(
    service: OtxEmulator, bad_credentials_enricher: OtxEnricher
) -> None:
    with pytest.raises(CredentialsRejected) as refused:
        await bad_credentials_enricher.enrich(ip(BAD_IP))
    assert refused.value.status == 403
    assert "Invalid API key" in str(refused.value)
    assert BAD_KEY not in str(refused.value)


async def test_a_spent_hourly_allowance_waits_until_the_hour_is_over(
    service: OtxEmulator, enricher: OtxEnricher
) -> None:
    service.limit_per_hour(1)
    assert (await enricher.enrich(ip(BAD_IP))).verdict is Verdict.MALICIOUS
    with pytest.raises(RateLimited) as limited:
        await enricher.enrich(ip(BAD_IP))
    assert 3500 <= limited.value.retry_after <= 3600
    assert service.count("GET", "/indicators/", status=429) == 1


async def test_a_short_throttle_is_waited_out_with_retry_after(
    service: OtxEmulator, enricher: OtxEnricher
) -> None:
    service.throttle(1, seconds=1)
    found = await enricher.enrich(ip(BAD_IP))
    assert found.verdict is Verdict.MALICIOUS
    assert [call.status for call in service.calls] == [429, 200]


async def test_an_outage_is_retried_then_reported_as_transient(service: OtxEmulator) -> None:
    service.outage(2)
    assert (await enrich_with(service, ip(BAD_IP))).verdict is Verdict.MALICIOUS
    service.outage(5)
    with pytest.raises(TransientError):
        await enrich_with(service, ip(BAD_IP), max_retries=1)


# The check and the options


async def test_the_check_names_the_keys_user(service: OtxEmulator) -> None:
    lines = await check("otx-test", options(service))
    assert lines == [
        f"reached {service.base_url}",
        "key accepted: it belongs to the OTX user soar-bot",
    ]
    with pytest.raises(CredentialsRejected):
        await check("otx-test", options(service, api_key=BAD_KEY))


def test_the_integration_is_installed_with_green_and_needs_a_key() -> None:
    found = installed().integrations["otx"]
    assert found is INTEGRATION
    assert found.kinds == ["enricher"]
    with pytest.raises(ValueError, match=r"enrichment\.providers\.otx\.options\.api_key"):
        options_of(found, "enrichment.providers", "otx", {})
    made = options_of(found, "enrichment.providers", "otx", {"api_key": BAD_KEY})
    assert isinstance(made, OtxOptions)
    assert made.max_tlp is Tlp.GREEN
    assert made.base_url == "https://otx.alienvault.com"
    assert made.malicious_pulses == 5


async def test_nothing_secret_is_in_a_log(
    service: OtxEmulator,
    enricher: OtxEnricher,
    bad_credentials_enricher: OtxEnricher,
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

"""The GreyNoise enricher against its emulator over real HTTP: the enricher contract
(with and without a `Retry-After` on a short 429), then GreyNoise's own ways — each
classification, RIOT, not observed, IPv4 only, with and without a key, the day's
allowance used up (a retry at 00:00 UTC), an answer that is not GreyNoise's, outages,
the check, and no secret in any error or log."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest

from integrations.greynoise import INTEGRATION, GreyNoiseEnricher, GreyNoiseOptions
from integrations.greynoise.client import check
from soar.alerts.models import Observable, ObservableType
from soar.enrichment.models import Tlp, Verdict
from soar.integrations.errors import (
    CredentialsRejected,
    IntegrationError,
    RateLimited,
    RequestRejected,
    TransientError,
)
from soar.runtime.integrations import installed
from soar.testing.contract import EnricherContract
from soar.testing.emulators.greynoise import GreyNoiseEmulator

SCANNER = "45.83.1.2"
BAD_KEY = "wrong-greynoise-key-0123456789"


def ip(value: str) -> Observable:
    return Observable(type=ObservableType.IP, value=value)


def options(service: GreyNoiseEmulator, **extra: object) -> GreyNoiseOptions:
    settings: dict[str, object] = {
        "base_url": service.base_url,
        "api_key": service.key,
        "max_wait_seconds": 5,
    }
    settings.update(extra)
    return GreyNoiseOptions.model_validate(settings)


def seeded(emulator: GreyNoiseEmulator) -> GreyNoiseEmulator:
    emulator.add_ip(SCANNER, classification="malicious", name="unknown")
    emulator.secrets.append(BAD_KEY)
    return emulator


@pytest.fixture
async def service() -> AsyncIterator[GreyNoiseEmulator]:
    emulator = seeded(GreyNoiseEmulator())
    async with emulator:
        yield emulator


@pytest.fixture
async def enricher(service: GreyNoiseEmulator) -> AsyncIterator[GreyNoiseEnricher]:
    made = GreyNoiseEnricher("greynoise-test", options(service))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_enricher(
    service: GreyNoiseEmulator,
) -> AsyncIterator[GreyNoiseEnricher]:
    made = GreyNoiseEnricher("greynoise-test", options(service, api_key=BAD_KEY))
    yield made
    await made.aclose()


@pytest.fixture
def malicious() -> Observable:
    return ip(SCANNER)


@pytest.fixture
def unknown() -> Observable:
    return ip("81.2.69.160")


@pytest.fixture
def unsupported() -> Observable:
    return ip("2001:67c:6ec:203::42")


class TestGreyNoiseContract(EnricherContract):
    """The contract, against a GreyNoise whose short 429 sends no wait (the shared
    backoff waits it out)."""


class TestGreyNoiseWithRetryAfterContract(EnricherContract):
    """The contract again, against a GreyNoise that sends `Retry-After`."""

    @pytest.fixture
    async def service(self) -> AsyncIterator[GreyNoiseEmulator]:
        emulator = seeded(GreyNoiseEmulator(retry_after=True))
        async with emulator:
            yield emulator


# Reading the answer


@pytest.mark.parametrize(
    ("seed", "verdict", "score", "words"),
    [
        (
            {"classification": "malicious", "name": "unknown"},
            Verdict.MALICIOUS,
            90,
            "GreyNoise: 45.83.1.7 is seen scanning the internet and classified malicious, "
            "last seen 2026-11-30",
        ),
        (
            {"classification": "suspicious", "name": "unknown"},
            Verdict.SUSPICIOUS,
            50,
            "GreyNoise: 45.83.1.7 is seen scanning the internet and classified suspicious, "
            "last seen 2026-11-30",
        ),
        (
            {"classification": "unknown", "name": "unknown"},
            Verdict.SUSPICIOUS,
            40,
            "GreyNoise: 45.83.1.7 is seen scanning the internet, intent unknown, last seen "
            "2026-11-30",
        ),
        (
            {"classification": "benign", "name": "Shodan.io"},
            Verdict.BENIGN,
            0,
            "GreyNoise: 45.83.1.7 (Shodan.io) is seen scanning the internet and classified "
            "benign, last seen 2026-11-30",
        ),
        (
            {"noise": False, "riot": True, "classification": "benign", "name": "Cloudflare"},
            Verdict.BENIGN,
            0,
            "GreyNoise: 45.83.1.7 is Cloudflare, a common business service (RIOT)",
        ),
        (
            {"noise": False, "classification": "unknown"},
            Verdict.UNKNOWN,
            0,
            "GreyNoise knows 45.83.1.7 but has no classification of it",
        ),
    ],
)
async def test_each_classification(
    service: GreyNoiseEmulator,
    enricher: GreyNoiseEnricher,
    seed: dict[str, object],
    verdict: Verdict,
    score: int,
    words: str,
) -> None:
    service.add_ip("45.83.1.7", **seed)  # type: ignore[arg-type]
    found = await enricher.enrich(ip("45.83.1.7"))
    assert (found.verdict, found.score, found.reasons) == (verdict, score, [words])
    assert found.link == "https://viz.greynoise.io/ip/45.83.1.7"
    assert found.data["raw"]["ip"] == "45.83.1.7"


async def test_an_address_not_observed_is_unknown_in_plain_words(
    service: GreyNoiseEmulator, enricher: GreyNoiseEnricher
) -> None:
    found = await enricher.enrich(ip("81.2.69.160"))
    assert found.verdict is Verdict.UNKNOWN
    assert found.reasons == [
        "GreyNoise has not seen 81.2.69.160 scanning the internet, and it is not a known "
        "business service"
    ]
    assert found.link == "https://viz.greynoise.io/ip/81.2.69.160"
    assert [call.status for call in service.calls] == [404]


async def test_the_key_goes_in_the_key_header_and_no_key_is_the_unauthenticated_plan(
    service: GreyNoiseEmulator,
) -> None:
    keyless = GreyNoiseEnricher("greynoise-test", options(service, api_key=None))
    try:
        found = await keyless.enrich(ip(SCANNER))
    finally:
        await keyless.aclose()
    assert found.verdict is Verdict.MALICIOUS
    assert service.used == {True: 0, False: 1}


@pytest.mark.parametrize("value", ["2001:67c:6ec:203::42", "300.1.1.1", "evil.example"])
async def test_what_is_not_an_ipv4_address_is_refused_without_a_call(
    service: GreyNoiseEmulator, enricher: GreyNoiseEnricher, value: str
) -> None:
    refused = Observable(
        type=ObservableType.DOMAIN if value.endswith(".example") else ObservableType.IP,
        value=value,
    )
    assert not enricher.supports(refused)
    with pytest.raises(RequestRejected):
        await enricher.enrich(refused)
    assert service.lookups == 0


# Limits


async def test_the_days_lookups_used_up_is_a_retry_at_midnight_utc() -> None:
    service = seeded(GreyNoiseEmulator(daily_limit=1))
    async with service:
        enricher = GreyNoiseEnricher("greynoise-test", options(service))
        try:
            await enricher.enrich(ip(SCANNER))
            with pytest.raises(RateLimited) as limited:
                await enricher.enrich(ip(SCANNER))
        finally:
            await enricher.aclose()
    until_midnight = (time.time() // 86400 + 1) * 86400 - time.time()
    assert until_midnight <= limited.value.retry_after <= until_midnight + 2
    assert "the day's lookups are used up (You have hit your daily rate limit of 1" in str(
        limited.value
    )
    assert [call.status for call in service.calls] == [200, 429]


async def test_a_retry_after_on_the_days_limit_is_honoured_as_sent() -> None:
    service = seeded(GreyNoiseEmulator(daily_limit=0, retry_after=True))
    async with service:
        enricher = GreyNoiseEnricher("greynoise-test", options(service))
        try:
            with pytest.raises(RateLimited) as limited:
                await enricher.enrich(ip(SCANNER))
        finally:
            await enricher.aclose()
    until_midnight = (time.time() // 86400 + 1) * 86400 - time.time()
    assert until_midnight - 1 <= limited.value.retry_after <= until_midnight + 2
    assert service.lookups == 1


async def test_a_short_429_without_a_wait_is_retried_with_backoff(
    service: GreyNoiseEmulator, enricher: GreyNoiseEnricher
) -> None:
    service.throttle(2)
    found = await enricher.enrich(ip(SCANNER))
    assert found.verdict is Verdict.MALICIOUS
    assert [call.status for call in service.calls] == [429, 429, 200]


# Errors


async def test_a_bad_key_is_refused_in_greynoises_words(
    service: GreyNoiseEmulator, bad_credentials_enricher: GreyNoiseEnricher
) -> None:
    with pytest.raises(CredentialsRejected, match="Authentication failed: invalid API key"):
        await bad_credentials_enricher.enrich(ip(SCANNER))


async def test_an_answer_that_is_not_greynoises_says_base_url_may_be_wrong(
    service: GreyNoiseEmulator,
) -> None:
    enricher = GreyNoiseEnricher(
        "greynoise-test", options(service, base_url=f"{service.base_url}/elsewhere")
    )
    try:
        with pytest.raises(RequestRejected, match="is base_url the GreyNoise API"):
            await enricher.enrich(ip(SCANNER))
    finally:
        await enricher.aclose()


async def test_an_outage_is_retried_and_a_long_one_is_transient(
    service: GreyNoiseEmulator, enricher: GreyNoiseEnricher
) -> None:
    service.outage(2)
    assert (await enricher.enrich(ip(SCANNER))).verdict is Verdict.MALICIOUS
    service.outage(4)
    with pytest.raises(TransientError, match="503"):
        await enricher.enrich(ip(SCANNER))


# Options, the check, the descriptor, secrets


def test_defaults_are_the_public_service_green_and_no_key() -> None:
    settings = GreyNoiseOptions.model_validate({})
    assert settings.base_url == "https://api.greynoise.io"
    assert settings.max_tlp is Tlp.GREEN
    assert settings.api_key is None


async def test_the_check_says_whether_a_key_is_used(service: GreyNoiseEmulator) -> None:
    service.add_ip("8.8.8.8", noise=False, riot=True, classification="benign", name="Google")
    assert await check("greynoise-test", options(service)) == [
        f"reached {service.base_url}",
        "key accepted",
        "8.8.8.8 is Google",
    ]
    assert (await check("greynoise-test", options(service, api_key=None)))[1] == (
        "no key: the unauthenticated community plan"
    )
    with pytest.raises(CredentialsRejected):
        await check("greynoise-test", options(service, api_key=BAD_KEY))


def test_the_integration_is_installed() -> None:
    found = installed().integrations["greynoise"]
    assert found is INTEGRATION
    assert found.kinds == ["enricher"]


async def test_nothing_secret_is_in_an_error_or_a_log(
    service: GreyNoiseEmulator,
    enricher: GreyNoiseEnricher,
    bad_credentials_enricher: GreyNoiseEnricher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[IntegrationError] = []
    with pytest.raises(IntegrationError) as refused:
        await bad_credentials_enricher.enrich(ip(SCANNER))
    errors.append(refused.value)
    service.outage(4)
    with pytest.raises(IntegrationError) as down:
        await enricher.enrich(ip(SCANNER))
    errors.append(down.value)
    found = await enricher.enrich(ip(SCANNER))
    text = " ".join(str(e) for e in errors) + caplog.text + found.model_dump_json()
    text += repr(options(service))
    for secret in service.secrets:
        assert secret not in text

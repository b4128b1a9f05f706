"""The AbuseIPDB enricher against its emulator over real HTTP: the enricher contract, then
AbuseIPDB's own ways — the confidence thresholds, an address nobody reported, the allow
list, IPv6, the day's allowance read from every answer and its end as a timed retry,
errors inside a 200, outages, the check, and no secret in any error or log."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator

import pytest

from integrations.abuseipdb import INTEGRATION, AbuseIpdbEnricher, AbuseIpdbOptions
from integrations.abuseipdb.client import check
from soar.alerts.models import Observable, ObservableType
from soar.enrichment.models import Tlp, Verdict
from soar.integrations.errors import (
    CredentialsRejected,
    IntegrationError,
    RateLimited,
    RequestRejected,
    TransientError,
)
from soar.runtime.integrations import installed, options_of
from soar.testing.contract import EnricherContract
from soar.testing.emulators.abuseipdb import AbuseIpdbEmulator

BAD = "45.83.1.2"
BAD_KEY = "wrong-abuseipdb-key-0123456789"


def ip(value: str) -> Observable:
    return Observable(type=ObservableType.IP, value=value)


def options(service: AbuseIpdbEmulator, **extra: object) -> AbuseIpdbOptions:
    settings: dict[str, object] = {
        "base_url": service.base_url,
        "api_key": service.key,
        "max_wait_seconds": 5,
    }
    settings.update(extra)
    return AbuseIpdbOptions.model_validate(settings)


@pytest.fixture
async def service() -> AsyncIterator[AbuseIpdbEmulator]:
    emulator = AbuseIpdbEmulator()
    emulator.add_ip(
        BAD, score=100, reports=312, users=87, last_reported_at="2026-11-30T08:15:00+00:00"
    )
    emulator.secrets.append(BAD_KEY)
    async with emulator:
        yield emulator


@pytest.fixture
async def enricher(service: AbuseIpdbEmulator) -> AsyncIterator[AbuseIpdbEnricher]:
    made = AbuseIpdbEnricher("abuseipdb-test", options(service))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_enricher(
    service: AbuseIpdbEmulator,
) -> AsyncIterator[AbuseIpdbEnricher]:
    made = AbuseIpdbEnricher("abuseipdb-test", options(service, api_key=BAD_KEY))
    yield made
    await made.aclose()


@pytest.fixture
def malicious() -> Observable:
    return ip(BAD)


@pytest.fixture
def unknown() -> Observable:
    return ip("81.2.69.160")


@pytest.fixture
def unsupported() -> Observable:
    return Observable(type=ObservableType.DOMAIN, value="evil.example")


class TestAbuseIpdbContract(EnricherContract):
    """The contract every enricher keeps."""


# Reading the answer


async def test_a_confident_report_is_malicious_with_the_score_and_the_link(
    service: AbuseIpdbEmulator, enricher: AbuseIpdbEnricher
) -> None:
    found = await enricher.enrich(ip(BAD))
    assert found.verdict is Verdict.MALICIOUS
    assert found.score == 100
    assert found.reasons[0] == (
        f"AbuseIPDB: {BAD} was reported 312 times by 87 users in the last 90 days, "
        "last on 2026-11-30 (abuse confidence 100%)"
    )
    assert "network: Example Hosting GmbH, Data Center/Web Hosting/Transit, DE" in found.reasons
    assert found.link == f"https://www.abuseipdb.com/check/{BAD}"
    assert found.data["raw"]["totalReports"] == 312
    call = service.calls[-1]
    assert call.path == "/api/v2/check"
    assert call.query == {"ipAddress": BAD, "maxAgeInDays": "90"}


@pytest.mark.parametrize(
    ("score", "verdict"),
    [
        (75, Verdict.MALICIOUS),
        (74, Verdict.SUSPICIOUS),
        (25, Verdict.SUSPICIOUS),
        (24, Verdict.UNKNOWN),
    ],
)
async def test_the_confidence_thresholds(
    service: AbuseIpdbEmulator, enricher: AbuseIpdbEnricher, score: int, verdict: Verdict
) -> None:
    service.add_ip("198.18.7.7", score=score, reports=3, users=2)
    found = await enricher.enrich(ip("198.18.7.7"))
    assert (found.verdict, found.score) == (verdict, score)


async def test_thresholds_and_the_age_of_reports_are_options(
    service: AbuseIpdbEmulator,
) -> None:
    service.add_ip("198.18.7.8", score=40, reports=3, users=2)
    enricher = AbuseIpdbEnricher(
        "abuseipdb-test", options(service, malicious_at=40, suspicious_at=10, max_age_days=30)
    )
    try:
        found = await enricher.enrich(ip("198.18.7.8"))
    finally:
        await enricher.aclose()
    assert found.verdict is Verdict.MALICIOUS
    assert "in the last 30 days" in found.reasons[0]
    assert service.calls[-1].query["maxAgeInDays"] == "30"
    with pytest.raises(ValueError, match="suspicious_at must not be above malicious_at"):
        options(service, malicious_at=20, suspicious_at=30)


async def test_an_address_nobody_reported_is_unknown_not_benign(
    service: AbuseIpdbEmulator, enricher: AbuseIpdbEnricher
) -> None:
    found = await enricher.enrich(ip("81.2.69.160"))
    assert found.verdict is Verdict.UNKNOWN
    assert found.score == 0
    assert found.reasons[0] == "AbuseIPDB: no reports of 81.2.69.160 in the last 90 days"


async def test_an_address_on_the_allow_list_is_benign(
    service: AbuseIpdbEmulator, enricher: AbuseIpdbEnricher
) -> None:
    service.add_ip("8.8.8.8", whitelisted=True, isp="Google LLC", usage_type="Content Delivery")
    found = await enricher.enrich(ip("8.8.8.8"))
    assert found.verdict is Verdict.BENIGN
    assert "AbuseIPDB lists it as a well-known service (allow list)" in found.reasons


async def test_ipv6_and_tor_exits(service: AbuseIpdbEmulator, enricher: AbuseIpdbEnricher) -> None:
    service.add_ip("2001:67c:6ec:203::42", score=90, reports=20, users=9, tor=True)
    found = await enricher.enrich(ip("2001:67C:6EC:203:0:0:0:42"))
    assert found.verdict is Verdict.MALICIOUS
    assert "it is a Tor exit node" in found.reasons
    assert found.data["tor"] is True
    assert service.calls[-1].query["ipAddress"] == "2001:67c:6ec:203::42"
    assert found.link == "https://www.abuseipdb.com/check/2001:67c:6ec:203::42"


async def test_a_value_that_is_no_address_is_refused_without_a_call(
    service: AbuseIpdbEmulator, enricher: AbuseIpdbEnricher
) -> None:
    bogus = ip("999.1.1.1")
    assert not enricher.supports(bogus)
    with pytest.raises(RequestRejected):
        await enricher.enrich(bogus)
    assert service.lookups == 0


# The day's allowance


async def test_the_allowance_is_read_from_every_answer(
    service: AbuseIpdbEmulator, enricher: AbuseIpdbEnricher
) -> None:
    assert enricher.quota is None
    await enricher.enrich(ip(BAD))
    await enricher.enrich(ip("81.2.69.160"))
    assert enricher.quota is not None
    assert (enricher.quota.limit, enricher.quota.remaining) == (1000, 998)


async def test_the_allowance_used_up_is_a_retry_after_the_reset(
    service: AbuseIpdbEmulator,
) -> None:
    service.daily_limit = 2
    service.resets_at = math.ceil(time.time()) + 3 * 3600
    enricher = AbuseIpdbEnricher("abuseipdb-test", options(service))
    try:
        await enricher.enrich(ip(BAD))
        await enricher.enrich(ip(BAD))
        with pytest.raises(RateLimited) as limited:
            await enricher.enrich(ip(BAD))
    finally:
        await enricher.aclose()
    assert 3 * 3600 - 5 <= limited.value.retry_after <= 3 * 3600 + 1
    assert "daily allowance of checks is used up" in str(limited.value)
    assert [call.status for call in service.calls] == [200, 200, 429]
    assert enricher.quota is not None
    assert enricher.quota.remaining == 0 and enricher.quota.limit == 2
    assert enricher.quota.resets_at is not None
    assert abs(enricher.quota.resets_at.timestamp() - service.resets_at) <= 2


async def test_a_reset_within_the_wait_is_waited_out(
    service: AbuseIpdbEmulator, enricher: AbuseIpdbEnricher
) -> None:
    service.throttle(1, seconds=1)
    started = time.monotonic()
    found = await enricher.enrich(ip(BAD))
    assert found.verdict is Verdict.MALICIOUS
    assert time.monotonic() - started >= 0.95
    assert [call.status for call in service.calls] == [429, 200]


# Errors


async def test_errors_inside_a_200_are_a_rejection_in_abuseipdbs_words(
    service: AbuseIpdbEmulator, enricher: AbuseIpdbEnricher
) -> None:
    service.errors_in_ok("Something went wrong on our side.")
    with pytest.raises(RequestRejected, match="Something went wrong on our side"):
        await enricher.enrich(ip(BAD))
    assert service.lookups == 1


async def test_a_bad_key_is_refused_in_abuseipdbs_words(
    service: AbuseIpdbEmulator, bad_credentials_enricher: AbuseIpdbEnricher
) -> None:
    with pytest.raises(CredentialsRejected, match="Authentication failed"):
        await bad_credentials_enricher.enrich(ip(BAD))


async def test_an_outage_is_retried_and_a_long_one_is_transient(
    service: AbuseIpdbEmulator, enricher: AbuseIpdbEnricher
) -> None:
    service.outage(2)
    assert (await enricher.enrich(ip(BAD))).verdict is Verdict.MALICIOUS
    service.outage(10)
    with pytest.raises(TransientError, match="503"):
        await enricher.enrich(ip(BAD))


async def test_an_answer_that_is_not_a_report_says_base_url_may_be_wrong(
    service: AbuseIpdbEmulator,
) -> None:
    enricher = AbuseIpdbEnricher(
        "abuseipdb-test", options(service, base_url=f"{service.base_url}/elsewhere")
    )
    try:
        with pytest.raises(IntegrationError, match="404"):
            await enricher.enrich(ip(BAD))
    finally:
        await enricher.aclose()


# Options, the check, the descriptor, secrets


def test_defaults_are_the_public_service_and_green() -> None:
    settings = AbuseIpdbOptions.model_validate(
        {"api_key": "k" * 20, "base_url": "https://api.abuseipdb.com/api/v2/"}
    )
    assert settings.base_url == "https://api.abuseipdb.com"
    assert settings.max_tlp is Tlp.GREEN
    assert settings.max_age_days == 90
    assert AbuseIpdbOptions.model_fields["base_url"].default == "https://api.abuseipdb.com"


async def test_the_check_says_the_key_is_accepted_and_what_is_left(
    service: AbuseIpdbEmulator,
) -> None:
    lines = await check("abuseipdb-test", options(service))
    assert lines == [f"reached {service.base_url}", "key accepted", "999 of 1000 checks left today"]
    assert service.calls[-1].query["ipAddress"] == "127.0.0.1"
    with pytest.raises(CredentialsRejected):
        await check("abuseipdb-test", options(service, api_key=BAD_KEY))


def test_the_integration_is_installed_and_names_a_bad_option() -> None:
    found = installed().integrations["abuseipdb"]
    assert found is INTEGRATION
    assert found.kinds == ["enricher"]
    with pytest.raises(ValueError, match=r"enrichment\.providers\.abuse\.options\.api_key"):
        options_of(found, "enrichment.providers", "abuse", {})


async def test_nothing_secret_is_in_an_error_or_a_log(
    service: AbuseIpdbEmulator,
    enricher: AbuseIpdbEnricher,
    bad_credentials_enricher: AbuseIpdbEnricher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[IntegrationError] = []
    for who in (bad_credentials_enricher, enricher):
        if who is enricher:
            service.outage(4)  # the first try and its three retries
        with pytest.raises(IntegrationError) as raised:
            await who.enrich(ip(BAD))
        errors.append(raised.value)
    found = await enricher.enrich(ip(BAD))
    text = " ".join(str(e) for e in errors) + caplog.text + found.model_dump_json()
    text += repr(options(service))
    for secret in service.secrets:
        assert secret not in text

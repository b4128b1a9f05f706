"""The Shodan enricher against its emulator over real HTTP: the enricher contract, then
Shodan's own ways — tags and vulnerabilities read into a verdict, open services only,
no information (a 404, or inside a 200), the key as a query parameter that never
appears in an error, a log line or an answer (even from a server that echoes URLs),
the HTML 401 page, errors inside a 200, the rate, the check, and the options."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import pytest

from integrations.shodan import INTEGRATION, ShodanEnricher, ShodanOptions
from integrations.shodan.client import check
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
from soar.testing.emulators.shodan import ShodanEmulator

C2 = "45.83.1.2"
BAD_KEY = "wrongshodankey0123456789abcdef"


def ip(value: str) -> Observable:
    return Observable(type=ObservableType.IP, value=value)


def options(service: ShodanEmulator, **extra: object) -> ShodanOptions:
    settings: dict[str, object] = {
        "base_url": service.base_url,
        "api_key": service.key,
        "max_wait_seconds": 5,
        "requests_per_minute": None,
    }
    settings.update(extra)
    return ShodanOptions.model_validate(settings)


def seeded(emulator: ShodanEmulator) -> ShodanEmulator:
    emulator.add_host(C2, ports=(22, 443, 8443), tags=("c2", "self-signed"), os="Linux")
    emulator.secrets.append(BAD_KEY)
    return emulator


@pytest.fixture
async def service() -> AsyncIterator[ShodanEmulator]:
    emulator = seeded(ShodanEmulator())
    async with emulator:
        yield emulator


@pytest.fixture
async def enricher(service: ShodanEmulator) -> AsyncIterator[ShodanEnricher]:
    made = ShodanEnricher("shodan-test", options(service))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_enricher(service: ShodanEmulator) -> AsyncIterator[ShodanEnricher]:
    made = ShodanEnricher("shodan-test", options(service, api_key=BAD_KEY))
    yield made
    await made.aclose()


@pytest.fixture
def malicious() -> Observable:
    return ip(C2)


@pytest.fixture
def unknown() -> Observable:
    return ip("81.2.69.160")


@pytest.fixture
def unsupported() -> Observable:
    return Observable(type=ObservableType.URL, value="https://evil.example/")


class TestShodanContract(EnricherContract):
    """The contract every enricher keeps."""


class TestShodanWithTheHtml401PageContract(EnricherContract):
    """The contract again, against a Shodan that refuses a key with its HTML 401 page
    and says "no information" inside a 200."""

    @pytest.fixture
    async def service(self) -> AsyncIterator[ShodanEmulator]:
        emulator = seeded(ShodanEmulator(html_401=True, not_found_in_ok=True))
        async with emulator:
            yield emulator


# Reading the answer


async def test_a_malicious_tag_is_malicious_with_the_hosts_context(
    service: ShodanEmulator, enricher: ShodanEnricher
) -> None:
    found = await enricher.enrich(ip(C2))
    assert (found.verdict, found.score) == (Verdict.MALICIOUS, 80)
    assert found.reasons == [
        f"Shodan tags {C2} as c2",
        f"Shodan: {C2} exposes 22, 443, 8443, last scanned 2026-11-29",
        "network: Example Hosting, AS51167, Germany",
        "operating system: Linux",
        "tags: self-signed",
    ]
    assert found.link == f"https://www.shodan.io/host/{C2}"
    assert found.data["services"][0] == {
        "port": 22,
        "transport": "tcp",
        "product": "OpenSSH",
        "version": "8.2p1",
    }
    assert "data" not in found.data["raw"], "the banners are not kept"
    assert found.data["raw"]["ports"] == [22, 443, 8443]
    assert service.calls[-1].path == f"/shodan/host/{C2}"


async def test_known_vulnerabilities_are_suspicious(
    service: ShodanEmulator, enricher: ShodanEnricher
) -> None:
    service.add_host("81.2.69.161", ports=(80,), vulns=("CVE-2021-41773", "CVE-2021-42013"))
    found = await enricher.enrich(ip("81.2.69.161"))
    assert (found.verdict, found.score) == (Verdict.SUSPICIOUS, 40)
    assert found.reasons[0] == (
        "Shodan: 81.2.69.161 runs software with 2 known vulnerabilities "
        "(CVE-2021-41773, CVE-2021-42013)"
    )
    assert found.data["vulns"] == ["CVE-2021-41773", "CVE-2021-42013"]


async def test_a_suspicious_tag_is_suspicious(
    service: ShodanEmulator, enricher: ShodanEnricher
) -> None:
    service.add_host("81.2.69.162", tags=("tor",))
    found = await enricher.enrich(ip("81.2.69.162"))
    assert found.verdict is Verdict.SUSPICIOUS
    assert found.reasons[0] == "Shodan tags 81.2.69.162 as tor"


async def test_open_services_alone_say_nothing_either_way(
    service: ShodanEmulator, enricher: ShodanEnricher
) -> None:
    service.add_host("2a02:c207::5", ports=(443,), hostnames=("www.shop.example",))
    found = await enricher.enrich(ip("2a02:c207:0:0::5"))
    assert (found.verdict, found.score) == (Verdict.UNKNOWN, 0)
    assert found.reasons[0] == "Shodan: 2a02:c207::5 exposes 443, last scanned 2026-11-29"
    assert "hostnames: www.shop.example" in found.reasons
    assert service.calls[-1].path == "/shodan/host/2a02:c207::5"


async def test_what_reads_as_what_is_an_option(service: ShodanEmulator) -> None:
    service.add_host("81.2.69.163", tags=("vpn",), vulns=("CVE-2023-4966",))
    enricher = ShodanEnricher(
        "shodan-test",
        options(service, malicious_tags=["vpn"], vulnerable_is_suspicious=False),
    )
    try:
        tagged = await enricher.enrich(ip("81.2.69.163"))
        service.add_host("81.2.69.164", vulns=("CVE-2023-4966",))
        vulnerable = await enricher.enrich(ip("81.2.69.164"))
    finally:
        await enricher.aclose()
    assert tagged.verdict is Verdict.MALICIOUS
    assert vulnerable.verdict is Verdict.UNKNOWN
    assert "1 known vulnerability (CVE-2023-4966)" in vulnerable.reasons[0]


@pytest.mark.parametrize("in_ok", [False, True])
async def test_no_information_is_unknown_whether_404_or_inside_a_200(in_ok: bool) -> None:
    service = ShodanEmulator(not_found_in_ok=in_ok)
    async with service:
        enricher = ShodanEnricher("shodan-test", options(service))
        try:
            found = await enricher.enrich(ip("81.2.69.160"))
        finally:
            await enricher.aclose()
    assert found.verdict is Verdict.UNKNOWN
    assert found.reasons == ["Shodan has no information about 81.2.69.160"]
    assert [call.status for call in service.calls] == [200 if in_ok else 404]


async def test_a_value_that_is_no_address_is_refused_without_a_call(
    service: ShodanEmulator, enricher: ShodanEnricher
) -> None:
    assert not enricher.supports(ip("1.2.3"))
    with pytest.raises(RequestRejected):
        await enricher.enrich(ip("1.2.3"))
    assert service.lookups == 0


# The key in the URL


async def test_the_key_is_the_key_query_parameter(
    service: ShodanEmulator, enricher: ShodanEnricher
) -> None:
    await enricher.enrich(ip(C2))
    assert service.calls[-1].query == {"key": service.key}


async def test_the_key_never_leaks_from_an_error_a_log_or_an_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    service = seeded(ShodanEmulator(echo_url=True))
    errors: list[IntegrationError] = []
    async with service:
        enricher = ShodanEnricher("shodan-test", options(service, max_retries=0))
        try:
            for status, words in [(200, "Unexpected failure"), (400, "Bad"), (500, "Oops")]:
                service.error_next(words, status=status)
                with pytest.raises(IntegrationError) as raised:
                    await enricher.enrich(ip(C2))
                errors.append(raised.value)
            found = await enricher.enrich(ip(C2))
            echoed = [call.status for call in service.calls]
        finally:
            await enricher.aclose()
        assert echoed == [200, 400, 500, 200]
        assert all("(while serving /shodan/host/" in str(e) for e in errors), errors
    down = ShodanEnricher("shodan-test", options(service, max_retries=0))
    try:
        with pytest.raises(TransientError) as unreachable:
            await down.enrich(ip(C2))
    finally:
        await down.aclose()
    errors.append(unreachable.value)
    assert "key=***" in caplog.text, "the request log lines are masked, not dropped"
    text = " ".join(str(e) for e in errors) + caplog.text + found.model_dump_json()
    text += repr(options(service))
    for secret in service.secrets:
        assert secret not in text


# Errors


@pytest.mark.parametrize("html", [False, True])
async def test_a_bad_key_is_refused_in_shodans_words(html: bool) -> None:
    service = seeded(ShodanEmulator(html_401=html))
    async with service:
        enricher = ShodanEnricher("shodan-test", options(service, api_key=BAD_KEY))
        try:
            with pytest.raises(CredentialsRejected) as refused:
                await enricher.enrich(ip(C2))
        finally:
            await enricher.aclose()
    words = "the key was refused (Shodan's 401 page)" if html else "Please provide a valid API"
    assert words in str(refused.value)
    assert "<html>" not in str(refused.value)


@pytest.mark.parametrize(
    ("words", "error"),
    [
        ("Invalid API key", CredentialsRejected),
        ("Access denied (403 Forbidden)", CredentialsRejected),
        ("Something odd happened", RequestRejected),
    ],
)
async def test_errors_inside_a_200_are_read_by_their_words(
    service: ShodanEmulator,
    enricher: ShodanEnricher,
    words: str,
    error: type[IntegrationError],
) -> None:
    service.error_next(words)
    with pytest.raises(error, match=words.split(" (")[0]):
        await enricher.enrich(ip(C2))
    assert service.lookups == 1


async def test_a_rate_limit_inside_a_200_is_waited_out(
    service: ShodanEmulator, enricher: ShodanEnricher
) -> None:
    service.error_next("Request rate limit reached (1/second).")
    started = time.monotonic()
    found = await enricher.enrich(ip(C2))
    assert found.verdict is Verdict.MALICIOUS
    assert time.monotonic() - started >= 0.95
    assert service.lookups == 2


async def test_a_429_without_a_wait_is_a_second(
    service: ShodanEmulator, enricher: ShodanEnricher
) -> None:
    service.throttle(1)
    started = time.monotonic()
    found = await enricher.enrich(ip(C2))
    assert found.verdict is Verdict.MALICIOUS
    assert time.monotonic() - started >= 0.95
    assert [call.status for call in service.calls] == [429, 200]


async def test_a_long_rate_limit_is_a_timed_retry(service: ShodanEmulator) -> None:
    service.retry_after = True
    service.throttle(1, seconds=90)
    enricher = ShodanEnricher("shodan-test", options(service))
    try:
        with pytest.raises(RateLimited) as limited:
            await enricher.enrich(ip(C2))
    finally:
        await enricher.aclose()
    assert limited.value.retry_after == 90


async def test_an_answer_that_is_not_shodans_says_base_url_may_be_wrong(
    service: ShodanEmulator,
) -> None:
    enricher = ShodanEnricher("shodan-test", options(service, base_url=f"{service.base_url}/x"))
    try:
        with pytest.raises(RequestRejected, match="is base_url the Shodan API"):
            await enricher.enrich(ip(C2))
    finally:
        await enricher.aclose()


# Options, the check, the descriptor


def test_defaults_are_shodan_amber_and_one_call_a_second() -> None:
    settings = ShodanOptions.model_validate({"api_key": "k" * 32})
    assert settings.base_url == "https://api.shodan.io"
    assert settings.max_tlp is Tlp.AMBER
    assert settings.requests_per_minute == 60
    assert settings.malicious_tags == {"c2", "compromised", "doublepulsar", "malware"}


async def test_the_check_says_the_plan_and_spends_nothing(service: ShodanEmulator) -> None:
    assert await check("shodan-test", options(service)) == [
        f"reached {service.base_url}",
        "key accepted: plan dev",
        "97 query credits and 100 scan credits left (host lookups spend none)",
    ]
    assert [call.path for call in service.calls] == ["/api-info"]
    with pytest.raises(CredentialsRejected):
        await check("shodan-test", options(service, api_key=BAD_KEY))


def test_the_integration_is_installed_and_names_a_bad_option() -> None:
    found = installed().integrations["shodan"]
    assert found is INTEGRATION
    assert found.kinds == ["enricher"]
    with pytest.raises(ValueError, match=r"enrichment\.providers\.shodan\.options\.api_key"):
        options_of(found, "enrichment.providers", "shodan", {})

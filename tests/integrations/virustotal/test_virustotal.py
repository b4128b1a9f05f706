"""The VirusTotal enricher against its emulator over real HTTP: the enricher contract
(against a VirusTotal that sends `Retry-After`, and again one that sends no wait), then
VirusTotal's own ways — each observable type and its id, the engine thresholds, no
report and no analysis, the quotas (a minute's; a day's, until 00:00 UTC, once refused
again a minute later), errors in a 200, a base_url that is not VirusTotal, the check,
and no secret in any error or log."""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import AsyncIterator

import pytest

from integrations.virustotal import INTEGRATION, VirusTotalEnricher, VirusTotalOptions
from integrations.virustotal.client import check
from integrations.virustotal.enricher import url_id
from soar.alerts.models import Observable, ObservableType
from soar.enrichment.models import Tlp, Verdict
from soar.enrichment.providers import Enricher
from soar.integrations.errors import (
    CredentialsRejected,
    IntegrationError,
    RateLimited,
    RequestRejected,
    TransientError,
)
from soar.runtime.integrations import installed, options_of
from soar.testing.contract import EmulatedIntel, EnricherContract
from soar.testing.emulators.virustotal import VirusTotalEmulator

BAD_DOMAIN = "login-micros0ft.example"
BAD_KEY = "wrong-virustotal-key-0123456789abcdef"
SHA256 = hashlib.sha256(b"dropper").hexdigest()
SHA1 = hashlib.sha1(b"dropper", usedforsecurity=False).hexdigest()
MD5 = hashlib.md5(b"dropper", usedforsecurity=False).hexdigest()
UNSEEN_MD5 = hashlib.md5(b"unseen", usedforsecurity=False).hexdigest()
URL = "http://login-micros0ft.example/owa/auth.php?user=a%40b.example"


def observable(kind: ObservableType, value: str) -> Observable:
    return Observable(type=kind, value=value)


def options(service: VirusTotalEmulator, **extra: object) -> VirusTotalOptions:
    settings: dict[str, object] = {
        "base_url": service.base_url,
        "api_key": service.key,
        "max_wait_seconds": 5,
        "requests_per_minute": None,
    }
    settings.update(extra)
    return VirusTotalOptions.model_validate(settings)


def seeded(emulator: VirusTotalEmulator) -> VirusTotalEmulator:
    emulator.add_domain(
        BAD_DOMAIN,
        malicious=9,
        suspicious=2,
        harmless=55,
        undetected=26,
        reputation=-27,
        registrar="Example Registrar, Inc.",
        creation_date=1_763_900_000,
        tags=["phishing"],
    )
    emulator.add_file(
        SHA256,
        md5=MD5,
        sha1=SHA1,
        malicious=41,
        undetected=20,
        meaningful_name="invoice.exe",
        type_description="Win32 EXE",
        popular_threat_classification={"suggested_threat_label": "trojan.emotet/heodo"},
    )
    emulator.add_url(URL, malicious=4, harmless=60, last_final_url=URL)
    emulator.secrets.append(BAD_KEY)
    return emulator


@pytest.fixture
async def service() -> AsyncIterator[VirusTotalEmulator]:
    emulator = seeded(VirusTotalEmulator(retry_after=True))
    async with emulator:
        yield emulator


@pytest.fixture
async def enricher(service: VirusTotalEmulator) -> AsyncIterator[VirusTotalEnricher]:
    made = VirusTotalEnricher("vt-test", options(service))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_enricher(
    service: VirusTotalEmulator,
) -> AsyncIterator[VirusTotalEnricher]:
    made = VirusTotalEnricher("vt-test", options(service, api_key=BAD_KEY))
    yield made
    await made.aclose()


@pytest.fixture
def malicious() -> Observable:
    return observable(ObservableType.DOMAIN, BAD_DOMAIN)


@pytest.fixture
def unknown() -> Observable:
    return observable(ObservableType.HASH, hashlib.sha256(b"never seen").hexdigest())


@pytest.fixture
def unsupported() -> Observable:
    return observable(ObservableType.EMAIL, "ceo@example.com")


class TestVirusTotalContract(EnricherContract):
    """The contract, against a VirusTotal whose 429s carry `Retry-After`."""


class TestVirusTotalWithoutAWaitHeaderContract(EnricherContract):
    """The contract again, against a VirusTotal that sends no wait, as its docs say.
    Then a throttled lookup is not waited out in place: the wait is the minute's quota,
    longer than `max_wait_seconds`, so that one test becomes "the lookup is a timed
    retry after a minute, and the next lookup lands"."""

    @pytest.fixture
    async def service(self) -> AsyncIterator[VirusTotalEmulator]:
        emulator = seeded(VirusTotalEmulator(retry_after=False))
        async with emulator:
            yield emulator

    async def test_a_rate_limit_is_waited_out(
        self, service: EmulatedIntel, enricher: Enricher, malicious: Observable
    ) -> None:
        service.throttle(1)
        with pytest.raises(RateLimited) as limited:
            await enricher.enrich(malicious)
        assert limited.value.retry_after == 60
        found = await enricher.enrich(malicious)
        assert found is not None and found.verdict is Verdict.MALICIOUS


# Each observable type


async def test_a_domain_flagged_by_many_engines_is_malicious_with_its_context(
    service: VirusTotalEmulator, enricher: VirusTotalEnricher
) -> None:
    found = await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN.upper()))
    assert found.verdict is Verdict.MALICIOUS
    assert found.score == 100
    assert found.reasons[0] == (
        f"VirusTotal: 9 of 92 engines flag {BAD_DOMAIN} as malicious and 2 as suspicious "
        "(last analysed 2025-11-24)"
    )
    assert "domain: registrar Example Registrar, Inc., created 2025-11-23" in found.reasons
    assert "community reputation -27" in found.reasons
    assert "tags: phishing" in found.reasons
    assert found.link == f"https://www.virustotal.com/gui/domain/{BAD_DOMAIN}"
    assert service.calls[-1].path == f"/api/v3/domains/{BAD_DOMAIN}"
    assert found.data["raw"]["attributes"]["registrar"] == "Example Registrar, Inc."


@pytest.mark.parametrize("digest", [MD5, SHA1, SHA256, SHA256.upper()])
async def test_a_file_is_found_by_any_of_its_hashes_and_linked_by_its_sha256(
    service: VirusTotalEmulator, enricher: VirusTotalEnricher, digest: str
) -> None:
    found = await enricher.enrich(observable(ObservableType.HASH, digest))
    assert found.verdict is Verdict.MALICIOUS
    assert found.reasons[0].startswith(f"VirusTotal: 41 of 61 engines flag {digest.lower()} ")
    assert "VirusTotal's threat label: trojan.emotet/heodo" in found.reasons
    assert "file: invoice.exe (Win32 EXE)" in found.reasons
    assert found.link == f"https://www.virustotal.com/gui/file/{SHA256}"
    assert service.calls[-1].path == f"/api/v3/files/{digest.lower()}"


async def test_a_url_is_asked_by_its_base64url_id_and_linked_by_its_report_id(
    service: VirusTotalEmulator, enricher: VirusTotalEnricher
) -> None:
    found = await enricher.enrich(observable(ObservableType.URL, URL))
    assert found.verdict is Verdict.MALICIOUS
    expected_id = base64.urlsafe_b64encode(URL.encode()).decode().rstrip("=")
    assert url_id(URL) == expected_id and "=" not in expected_id
    assert service.calls[-1].path == f"/api/v3/urls/{expected_id}"
    digest = hashlib.sha256(URL.encode()).hexdigest()
    assert found.link == f"https://www.virustotal.com/gui/url/{digest}"


async def test_an_unknown_url_links_to_a_search(
    service: VirusTotalEmulator, enricher: VirusTotalEnricher
) -> None:
    found = await enricher.enrich(observable(ObservableType.URL, "https://new.example/x?y=1"))
    assert found.verdict is Verdict.UNKNOWN
    assert found.reasons == ["VirusTotal has no report on https://new.example/x?y=1"]
    assert found.link == (
        "https://www.virustotal.com/gui/search/https%3A%2F%2Fnew.example%2Fx%3Fy%3D1"
    )


async def test_an_ip_address_with_its_network(
    service: VirusTotalEmulator, enricher: VirusTotalEnricher
) -> None:
    service.add_ip(
        "2a02:c207::1", malicious=1, harmless=70, as_owner="Example Hosting", asn=51167,
        country="DE",
    )  # fmt: skip
    found = await enricher.enrich(observable(ObservableType.IP, "2a02:c207:0::1"))
    assert (found.verdict, found.score) == (Verdict.SUSPICIOUS, 40)
    assert "network: AS51167 Example Hosting (DE)" in found.reasons
    assert found.link == "https://www.virustotal.com/gui/ip-address/2a02%3Ac207%3A%3A1"
    assert service.calls[-1].path == "/api/v3/ip_addresses/2a02:c207::1"


# Verdicts


@pytest.mark.parametrize(
    ("counts", "verdict", "score"),
    [
        ({"malicious": 3}, Verdict.MALICIOUS, 75),
        ({"malicious": 4, "harmless": 60}, Verdict.MALICIOUS, 80),
        ({"malicious": 2, "suspicious": 1}, Verdict.SUSPICIOUS, 60),
        ({"suspicious": 1, "harmless": 80}, Verdict.SUSPICIOUS, 30),
        ({"harmless": 80, "undetected": 10}, Verdict.BENIGN, 0),
        ({"undetected": 70}, Verdict.UNKNOWN, 0),
        ({}, Verdict.UNKNOWN, 0),
    ],
)
async def test_the_engine_thresholds(
    service: VirusTotalEmulator,
    enricher: VirusTotalEnricher,
    counts: dict[str, int],
    verdict: Verdict,
    score: int,
) -> None:
    service.add_domain("subject.example", **counts)
    found = await enricher.enrich(observable(ObservableType.DOMAIN, "subject.example"))
    assert (found.verdict, found.score) == (verdict, score), found.reasons


async def test_words_for_a_clean_an_undetected_and_an_unanalysed_object(
    service: VirusTotalEmulator, enricher: VirusTotalEnricher
) -> None:
    service.add_domain("clean.example", harmless=80, undetected=12)
    service.add_domain("quiet.example", undetected=70)
    service.add_domain("fresh.example")
    words = [
        (await enricher.enrich(observable(ObservableType.DOMAIN, name))).reasons[0]
        for name in ("clean.example", "quiet.example", "fresh.example")
    ]
    assert words == [
        "VirusTotal: none of 92 engines flags clean.example; 80 rate it harmless "
        "(last analysed 2025-11-24)",
        "VirusTotal: none of 70 engines detects quiet.example (last analysed 2025-11-24)",
        "VirusTotal has no analysis of fresh.example yet",
    ]


async def test_thresholds_are_options(service: VirusTotalEmulator) -> None:
    service.add_domain("few.example", malicious=3)
    enricher = VirusTotalEnricher("vt-test", options(service, malicious_at=5, suspicious_at=2))
    try:
        found = await enricher.enrich(observable(ObservableType.DOMAIN, "few.example"))
    finally:
        await enricher.aclose()
    assert found.verdict is Verdict.SUSPICIOUS
    with pytest.raises(ValueError, match="suspicious_at must not be above malicious_at"):
        options(service, malicious_at=2, suspicious_at=3)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (ObservableType.HASH, "ab" * 64),  # SHA-512: not looked up
        (ObservableType.HASH, ""),
        (ObservableType.IP, "300.1.1.1"),
        (ObservableType.DOMAIN, "invoice.pdf.exe"),
        (ObservableType.URL, "not a url"),
        (ObservableType.HOSTNAME, "WS-01"),
    ],
)
async def test_what_virustotal_cannot_look_up_is_refused_without_a_call(
    service: VirusTotalEmulator, enricher: VirusTotalEnricher, kind: ObservableType, value: str
) -> None:
    refused = observable(kind, value)
    assert not enricher.supports(refused)
    with pytest.raises(RequestRejected):
        await enricher.enrich(refused)
    assert service.lookups == 0


# Quotas


async def test_a_429_without_a_wait_is_the_minutes_quota() -> None:
    service = seeded(VirusTotalEmulator())
    async with service:
        enricher = VirusTotalEnricher("vt-test", options(service))
        try:
            service.throttle(1)
            with pytest.raises(RateLimited) as limited:
                await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
        finally:
            await enricher.aclose()
    assert limited.value.retry_after == 60
    assert "Quota exceeded [QuotaExceededError]; waiting out the minute" in str(limited.value)
    assert service.lookups == 1


async def test_a_refusal_again_a_minute_later_is_the_days_quota_until_midnight_utc() -> None:
    service = seeded(VirusTotalEmulator(daily_quota=2))
    async with service:
        enricher = VirusTotalEnricher("vt-test", options(service))
        now = [time.time()]
        enricher.client.http.clock = lambda: now[0]
        try:
            await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
            await enricher.enrich(observable(ObservableType.HASH, UNSEEN_MD5))
            with pytest.raises(RateLimited) as first:
                await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
            now[0] += 30
            with pytest.raises(RateLimited) as within_the_minute:
                await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
            now[0] += 31
            with pytest.raises(RateLimited) as later:
                await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
        finally:
            await enricher.aclose()
    assert first.value.retry_after == within_the_minute.value.retry_after == 60
    until_midnight = (now[0] // 86400 + 1) * 86400 - now[0]
    assert later.value.retry_after == pytest.approx(until_midnight)
    assert "so the key's daily quota is used up" in str(later.value)
    assert [call.status for call in service.calls] == [200, 404, 429, 429, 429]


async def test_an_answer_between_two_refusals_starts_the_minute_again(
    service: VirusTotalEmulator,
) -> None:
    service.retry_after = False
    enricher = VirusTotalEnricher("vt-test", options(service))
    now = [time.time()]
    enricher.client.http.clock = lambda: now[0]
    try:
        service.throttle(1)
        with pytest.raises(RateLimited):
            await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
        now[0] += 61
        await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
        service.throttle(1)
        with pytest.raises(RateLimited) as again:
            await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
    finally:
        await enricher.aclose()
    assert again.value.retry_after == 60


async def test_a_retry_after_is_honoured_in_place(
    service: VirusTotalEmulator, enricher: VirusTotalEnricher
) -> None:
    service.throttle(1, seconds=1)
    started = time.monotonic()
    found = await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
    assert found.verdict is Verdict.MALICIOUS
    assert time.monotonic() - started >= 0.95
    assert [call.status for call in service.calls] == [429, 200]


async def test_lookups_are_spread_to_the_minutes_quota(service: VirusTotalEmulator) -> None:
    enricher = VirusTotalEnricher("vt-test", options(service, requests_per_minute=60))
    try:
        for _ in range(2):
            await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
    finally:
        await enricher.aclose()
    first, last = service.calls
    assert last.at - first.at >= 0.95, "two lookups at one a second took under a second"


# Errors


async def test_an_error_inside_a_200_is_a_rejection_in_virustotals_words(
    service: VirusTotalEmulator, enricher: VirusTotalEnricher
) -> None:
    service.error_in_ok("InvalidArgumentError", "Invalid domain")
    with pytest.raises(RequestRejected, match=r"Invalid domain \[InvalidArgumentError\]"):
        await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))


async def test_a_bad_or_missing_key_is_refused_in_virustotals_words(
    service: VirusTotalEmulator, bad_credentials_enricher: VirusTotalEnricher
) -> None:
    with pytest.raises(CredentialsRejected, match=r"Wrong API key \[WrongCredentialsError\]"):
        await bad_credentials_enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))


async def test_a_404_without_virustotals_body_says_base_url_may_be_wrong(
    service: VirusTotalEmulator,
) -> None:
    enricher = VirusTotalEnricher("vt-test", options(service, base_url=f"{service.base_url}/x"))
    try:
        with pytest.raises(RequestRejected, match="is base_url VirusTotal's"):
            await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
    finally:
        await enricher.aclose()


async def test_an_outage_is_retried_and_a_long_one_is_transient(
    service: VirusTotalEmulator, enricher: VirusTotalEnricher
) -> None:
    service.outage(2)
    found = await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
    assert found.verdict is Verdict.MALICIOUS
    service.outage(4)
    with pytest.raises(TransientError, match="503") as down:
        await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
    assert not isinstance(down.value, RateLimited)


# Options, the check, the descriptor, secrets


def test_defaults_are_a_public_key_and_amber() -> None:
    settings = VirusTotalOptions.model_validate(
        {"api_key": "k" * 64, "base_url": "https://www.virustotal.com/api/v3/"}
    )
    assert settings.base_url == "https://www.virustotal.com"
    assert settings.max_tlp is Tlp.AMBER
    assert (settings.requests_per_minute, settings.daily_quota) == (4, 500)
    assert VirusTotalOptions.model_fields["base_url"].default == "https://www.virustotal.com"


async def test_the_check_says_the_key_is_accepted(service: VirusTotalEmulator) -> None:
    service.add_ip("8.8.8.8", harmless=60, as_owner="GOOGLE")
    lines = await check("vt-test", options(service))
    assert lines == [f"reached {service.base_url}", "key accepted", "8.8.8.8 is known (GOOGLE)"]
    with pytest.raises(CredentialsRejected):
        await check("vt-test", options(service, api_key=BAD_KEY))


def test_the_integration_is_installed_and_names_a_bad_option() -> None:
    found = installed().integrations["virustotal"]
    assert found is INTEGRATION
    assert found.kinds == ["enricher"]
    with pytest.raises(ValueError, match=r"enrichment\.providers\.vt\.options\.api_key"):
        options_of(found, "enrichment.providers", "vt", {})


async def test_nothing_secret_is_in_an_error_or_a_log(
    service: VirusTotalEmulator,
    enricher: VirusTotalEnricher,
    bad_credentials_enricher: VirusTotalEnricher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[IntegrationError] = []
    with pytest.raises(IntegrationError) as refused:
        await bad_credentials_enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
    errors.append(refused.value)
    service.outage(4)
    with pytest.raises(IntegrationError) as down:
        await enricher.enrich(observable(ObservableType.DOMAIN, BAD_DOMAIN))
    errors.append(down.value)
    found = await enricher.enrich(observable(ObservableType.HASH, SHA256))
    text = " ".join(str(e) for e in errors) + caplog.text + found.model_dump_json()
    text += repr(options(service))
    for secret in service.secrets:
        assert secret not in text

"""The URLhaus enricher against the URLhaus emulator over real HTTP: the enricher
contract on an online malware URL, then URLhaus's own ways — URL status to verdicts,
hosts (online URLs, abused legitimate sites), payloads by MD5 and SHA-256,
`no_results` as unknown, errors inside 200 answers, a refused Auth-Key with 401 or
inside a 200, throttling, outages, the check, and the links."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from integrations.urlhaus import INTEGRATION, UrlhausEnricher, UrlhausOptions
from integrations.urlhaus.client import UrlhausClient, check
from soar.alerts.models import Observable, ObservableType
from soar.enrichment.models import Enrichment, Tlp, Verdict
from soar.integrations.errors import (
    CredentialsRejected,
    RequestRejected,
    TransientError,
)
from soar.runtime.integrations import installed, options_of
from soar.testing.contract import EnricherContract
from soar.testing.emulators.urlhaus import UrlhausEmulator

BAD_URL = "http://evil.example/bad.exe"
BAD_KEY = "0" * 48
WEB = "https://urlhaus.abuse.ch"
MD5 = "44d88612fea8a8f36de82e1278abb02f"
SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"


def options(urlhaus: UrlhausEmulator, **extra: object) -> UrlhausOptions:
    settings: dict[str, object] = {
        "base_url": urlhaus.base_url,
        "api_key": urlhaus.key,
        "max_wait_seconds": 5,
    }
    settings.update(extra)
    return UrlhausOptions.model_validate(settings)


def url(value: str) -> Observable:
    return Observable(type=ObservableType.URL, value=value)


@pytest.fixture
async def service() -> AsyncIterator[UrlhausEmulator]:
    urlhaus = UrlhausEmulator()
    urlhaus.add_url(BAD_URL, tags=["emotet", "exe"])
    urlhaus.secrets.append(BAD_KEY)
    async with urlhaus:
        yield urlhaus


@pytest.fixture
async def enricher(service: UrlhausEmulator) -> AsyncIterator[UrlhausEnricher]:
    made = UrlhausEnricher("urlhaus-test", options(service))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_enricher(service: UrlhausEmulator) -> AsyncIterator[UrlhausEnricher]:
    made = UrlhausEnricher("urlhaus-test", options(service, api_key=BAD_KEY))
    yield made
    await made.aclose()


@pytest.fixture
def malicious() -> Observable:
    return url(BAD_URL)


@pytest.fixture
def unknown() -> Observable:
    return url("https://fine.example/")


@pytest.fixture
def unsupported() -> Observable:
    return Observable(type=ObservableType.IP, value="2001:db8::7")


class TestUrlhausContract(EnricherContract):
    """The contract every enricher keeps, on a malware URL that is online."""


async def enrich_with(
    urlhaus: UrlhausEmulator, observable: Observable, **extra: object
) -> Enrichment:
    made = UrlhausEnricher("urlhaus-test", options(urlhaus, **extra))
    try:
        return await made.enrich(observable)
    finally:
        await made.aclose()


# URLs


@pytest.mark.parametrize(
    ("status", "verdict", "score", "words"),
    [
        ("online", Verdict.MALICIOUS, 90, "online now"),
        ("offline", Verdict.SUSPICIOUS, 60, "offline now"),
        ("unknown", Verdict.SUSPICIOUS, 50, "of unknown status"),
    ],
)
async def test_a_listed_urls_status_makes_the_verdict(
    service: UrlhausEmulator,
    enricher: UrlhausEnricher,
    status: str,
    verdict: Verdict,
    score: int,
    words: str,
) -> None:
    entry = service.add_url("https://drop.example/p.zip?id=1", status=status, tags=["qakbot"])
    found = await enricher.enrich(url("https://drop.example/p.zip?id=1"))
    assert (found.verdict, found.score) == (verdict, score)
    assert found.reasons[0] == f"URLhaus: a malware download URL, {words}"
    assert "tags: qakbot" in found.reasons
    assert found.link == f"{WEB}/url/{entry.id}/"
    assert service.forms[-1] == {"url": "https://drop.example/p.zip?id=1"}
    assert found.data["raw"]["url_status"] == status


async def test_nothing_known_is_unknown_with_a_search_link(
    service: UrlhausEmulator, enricher: UrlhausEnricher
) -> None:
    found = await enricher.enrich(url("https://fine.example/a?b=c"))
    assert (found.verdict, found.score) == (Verdict.UNKNOWN, 0)
    assert found.reasons == ["not listed in URLhaus"]
    assert found.data["raw"] == {"query_status": "no_results"}
    assert found.link == f"{WEB}/browse.php?search=https%3A%2F%2Ffine.example%2Fa%3Fb%3Dc"


# Hosts


@pytest.mark.parametrize(
    ("kind", "value", "host"),
    [
        (ObservableType.DOMAIN, "Evil.Example.", "evil.example"),
        (ObservableType.HOSTNAME, "evil.example", "evil.example"),
    ],
)
async def test_a_host_with_an_online_url_is_malicious(
    service: UrlhausEmulator,
    enricher: UrlhausEnricher,
    kind: ObservableType,
    value: str,
    host: str,
) -> None:
    service.add_url("http://evil.example/old.exe", status="offline", tags=["agenttesla"])
    found = await enricher.enrich(Observable(type=kind, value=value))
    assert service.forms[-1] == {"host": host}
    assert (found.verdict, found.score) == (Verdict.MALICIOUS, 90)
    assert found.reasons[0] == "URLhaus: 2 malware URLs on this host, 1 online now"
    assert "tags: agenttesla, emotet, exe" in found.reasons
    assert found.link == f"{WEB}/host/evil.example/"


async def test_an_ip_host_whose_urls_are_all_offline_is_suspicious(
    service: UrlhausEmulator, enricher: UrlhausEnricher
) -> None:
    service.add_url("http://198.51.100.23:8080/i.sh", status="offline")
    found = await enricher.enrich(Observable(type=ObservableType.IP, value="198.51.100.23"))
    assert service.forms[-1] == {"host": "198.51.100.23"}
    assert (found.verdict, found.score) == (Verdict.SUSPICIOUS, 60)
    assert found.reasons[0] == "URLhaus: 1 malware URL on this host, none online now"


async def test_an_abused_legitimate_site_is_at_most_suspicious(
    service: UrlhausEmulator, enricher: UrlhausEnricher
) -> None:
    service.add_url("https://files.example/u/1/payload.exe", status="online")
    service.blacklist("files.example", spamhaus_dbl="abused_legit_malware")
    found = await enricher.enrich(Observable(type=ObservableType.DOMAIN, value="files.example"))
    assert (found.verdict, found.score) == (Verdict.SUSPICIOUS, 50)
    assert found.reasons[1] == (
        "Spamhaus DBL: abused legit malware — a legitimate site abused to serve malware"
    )


# Payloads


@pytest.mark.parametrize(("digest", "field"), [(MD5, "md5_hash"), (SHA256.upper(), "sha256_hash")])
async def test_a_known_payload_is_malicious_by_md5_or_sha256(
    service: UrlhausEmulator, enricher: UrlhausEnricher, digest: str, field: str
) -> None:
    service.add_payload(MD5, SHA256, signature="Emotet", urls=[BAD_URL])
    found = await enricher.enrich(Observable(type=ObservableType.HASH, value=digest))
    assert service.forms[-1] == {field: digest.lower()}
    assert (found.verdict, found.score) == (Verdict.MALICIOUS, 90)
    assert found.reasons == [
        "URLhaus: a malware payload (signature Emotet, file type exe), served from 1 URL"
    ]
    assert found.link == f"{WEB}/browse.php?search={digest.lower()}"


async def test_an_unknown_payload_is_unknown(
    service: UrlhausEmulator, enricher: UrlhausEnricher
) -> None:
    found = await enricher.enrich(Observable(type=ObservableType.HASH, value="1" * 64))
    assert found.verdict is Verdict.UNKNOWN


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (ObservableType.IP, "2001:db8::7"),
        (ObservableType.HASH, "a" * 40),
        (ObservableType.HASH, "g" * 32),
        (ObservableType.URL, "ftp://evil.example/x"),
        (ObservableType.URL, "evil.example/x"),
        (ObservableType.DOMAIN, "evil"),
        (ObservableType.EMAIL, "boss@evil.example"),
    ],
)
async def test_what_urlhaus_cannot_answer_for_is_refused_before_any_call(
    service: UrlhausEmulator, enricher: UrlhausEnricher, kind: ObservableType, value: str
) -> None:
    observable = Observable(type=kind, value=value)
    assert not enricher.supports(observable)
    with pytest.raises(RequestRejected):
        await enricher.enrich(observable)
    assert service.lookups == 0


# Errors inside 200 answers, keys, limits


@pytest.mark.parametrize(
    ("endpoint", "value", "status"),
    [
        ("url", "not a url", "invalid_url"),
        ("host", "bad host/", "invalid_host"),
        ("md5_hash", "xyz", "invalid_md5_hash"),
        ("sha256_hash", "abc", "invalid_sha256_hash"),
    ],
)
async def test_an_error_inside_a_200_is_a_rejected_request_asked_once(
    service: UrlhausEmulator, endpoint: str, value: str, status: str
) -> None:
    client = UrlhausClient("urlhaus-test", options(service))
    try:
        with pytest.raises(RequestRejected) as rejected:
            if endpoint == "url":
                await client.url(value)
            elif endpoint == "host":
                await client.host(value)
            else:
                await client.payload(endpoint, value)
    finally:
        await client.aclose()
    assert str(rejected.value) == f"urlhaus-test: URLhaus rejected the query: {status}"
    assert service.lookups == 1
    assert service.calls[0].status == 200


async def test_a_get_where_urlhaus_expects_a_post_is_an_error_inside_a_200(
    service: UrlhausEmulator,
) -> None:
    client = UrlhausClient("urlhaus-test", options(service))
    try:
        with pytest.raises(RequestRejected, match="http_post_expected"):
            await client.http.json("GET", "/v1/url/")
    finally:
        await client.aclose()


@pytest.mark.parametrize("with_200", [False, True])
async def test_a_refused_auth_key_is_one_clear_error_either_way(with_200: bool) -> None:
    async with UrlhausEmulator(key_refused_with_200=with_200) as urlhaus:
        with pytest.raises(CredentialsRejected) as refused:
            await enrich_with(urlhaus, url(BAD_URL), api_key=BAD_KEY)
        assert urlhaus.lookups == 1
        assert urlhaus.calls[0].status == (200 if with_200 else 401)
    assert "unknown_auth_key" in str(refused.value)
    assert BAD_KEY not in str(refused.value)


async def test_a_throttle_is_waited_out_with_retry_after(
    service: UrlhausEmulator, enricher: UrlhausEnricher
) -> None:
    service.throttle(1, seconds=1)
    found = await enricher.enrich(url(BAD_URL))
    assert found.verdict is Verdict.MALICIOUS
    assert [call.status for call in service.calls] == [429, 200]


async def test_an_outage_is_retried_then_reported_as_transient(
    service: UrlhausEmulator,
) -> None:
    service.outage(2)
    assert (await enrich_with(service, url(BAD_URL))).verdict is Verdict.MALICIOUS
    service.outage(5)
    with pytest.raises(TransientError):
        await enrich_with(service, url(BAD_URL), max_retries=1)


# The check and the options


async def test_the_check_reads_the_latest_url(service: UrlhausEmulator) -> None:
    lines = await check("urlhaus-test", options(service))
    assert lines == [
        f"reached {service.base_url}",
        "Auth-Key accepted; the latest URL was added 2024-05-01 10:00:00 UTC",
    ]
    assert service.forms == []
    with pytest.raises(CredentialsRejected):
        await check("urlhaus-test", options(service, api_key=BAD_KEY))


def test_the_integration_is_installed_with_green_and_needs_a_key() -> None:
    found = installed().integrations["urlhaus"]
    assert found is INTEGRATION
    assert found.kinds == ["enricher"]
    with pytest.raises(ValueError, match=r"enrichment\.providers\.urlhaus\.options\.api_key"):
        options_of(found, "enrichment.providers", "urlhaus", {})
    made = options_of(found, "enrichment.providers", "urlhaus", {"api_key": BAD_KEY})
    assert isinstance(made, UrlhausOptions)
    assert made.max_tlp is Tlp.GREEN
    assert made.base_url == "https://urlhaus-api.abuse.ch"


async def test_nothing_secret_is_in_a_log(
    service: UrlhausEmulator,
    enricher: UrlhausEnricher,
    bad_credentials_enricher: UrlhausEnricher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    service.throttle(1, seconds=1)
    await enricher.enrich(url(BAD_URL))
    with pytest.raises(CredentialsRejected):
        await bad_credentials_enricher.enrich(url(BAD_URL))
    assert caplog.records, "the retry after the throttle is logged"
    for secret in service.secrets:
        assert secret not in caplog.text

"""The MISP enricher against the MISP emulator over real HTTP: the enricher contract on
an IP flagged for detection, then MISP's own ways — the verdict from the IDS flag and
the event's threat level, the events named in the reason, composite and wildcard
values, every observable type searched among the right attribute types, confirmed
false positives, TLP tags, both empty answers, a threat level the search does not
carry, MISP's 403 for a bad key, a role's search limit (429 with X-Rate-Limit-Reset),
outages, the check, and the link."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from integrations.misp import INTEGRATION, MispEnricher, MispOptions
from integrations.misp.client import check
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
from soar.testing.emulators.misp import MispEmulator, misp_key

BAD_IP = "45.83.1.2"
WEB = "https://misp.example.org"
BAD_KEY = misp_key()


def options(misp: MispEmulator, **extra: object) -> MispOptions:
    settings: dict[str, object] = {
        "base_url": misp.base_url,
        "api_key": misp.key,
        "web_url": WEB,
        "max_wait_seconds": 5,
    }
    settings.update(extra)
    return MispOptions.model_validate(settings)


def ip(value: str) -> Observable:
    return Observable(type=ObservableType.IP, value=value)


@pytest.fixture
async def service() -> AsyncIterator[MispEmulator]:
    misp = MispEmulator()
    misp.add_event("Emotet C2 wave", [("ip-dst", BAD_IP)], tags=["tlp:amber", "malware:emotet"])
    misp.secrets.append(BAD_KEY)
    async with misp:
        yield misp


@pytest.fixture
async def enricher(service: MispEmulator) -> AsyncIterator[MispEnricher]:
    made = MispEnricher("misp-test", options(service))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_enricher(service: MispEmulator) -> AsyncIterator[MispEnricher]:
    made = MispEnricher("misp-test", options(service, api_key=BAD_KEY))
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
    return Observable(type=ObservableType.USER, value="jdoe")


class TestMispContract(EnricherContract):
    """The contract every enricher keeps, on an IP a seeded event flags for detection."""


async def enrich_with(misp: MispEmulator, observable: Observable, **extra: object) -> Enrichment:
    made = MispEnricher("misp-test", options(misp, **extra))
    try:
        return await made.enrich(observable)
    finally:
        await made.aclose()


# The verdict


@pytest.mark.parametrize(
    ("to_ids", "level", "verdict", "score"),
    [
        (True, "high", Verdict.MALICIOUS, 95),
        (True, "medium", Verdict.MALICIOUS, 85),
        (True, "low", Verdict.MALICIOUS, 75),
        (True, "undefined", Verdict.MALICIOUS, 75),
        (False, "high", Verdict.SUSPICIOUS, 50),
        (False, "medium", Verdict.SUSPICIOUS, 35),
        (False, "low", Verdict.UNKNOWN, 10),
    ],
)
async def test_the_ids_flag_and_the_threat_level_make_the_verdict(
    service: MispEmulator,
    enricher: MispEnricher,
    to_ids: bool,
    level: str,
    verdict: Verdict,
    score: int,
) -> None:
    event = service.add_event(
        "Scanner sightings", [("ip-src", "198.51.100.77", to_ids)], threat_level=level
    )
    found = await enricher.enrich(ip("198.51.100.77"))
    assert (found.verdict, found.score) == (verdict, score)
    assert f'#{event.id} "Scanner sightings" (threat level {level})' in found.reasons[0]
    assert found.link == f"{WEB}/events/view/{event.id}"
    assert found.data["events"] == [
        {
            "id": event.id,
            "info": "Scanner sightings",
            "threat_level": level,
            "to_ids": to_ids,
            "false_positive": False,
        }
    ]


async def test_the_reason_names_the_events_that_matched_strongest_first(
    service: MispEmulator, enricher: MispEnricher
) -> None:
    context = service.add_event(
        "Victims of a phishing run", [("ip-dst", BAD_IP, False)], threat_level="medium"
    )
    found = await enricher.enrich(ip(BAD_IP))
    assert found.verdict is Verdict.MALICIOUS and found.score == 95
    assert found.reasons[0] == (
        'MISP: flagged for detection (IDS) in event #1 "Emotet C2 wave" (threat level high) '
        "and 1 more event"
    )
    assert found.reasons[1] == (
        'matching events: #1 "Emotet C2 wave" (threat level high) IDS, '
        f'#{context.id} "Victims of a phishing run" (threat level medium)'
    )
    assert "tags: malware:emotet" in found.reasons
    assert found.link == f"{WEB}/events/view/1"


async def test_a_threat_level_the_search_does_not_carry_leaves_the_ids_flag(
    service: MispEmulator,
) -> None:
    service.context_threat_level = False
    found = await enrich_with(service, ip(BAD_IP))
    assert found.verdict is Verdict.MALICIOUS and found.score == 75
    assert found.reasons[0] == 'MISP: flagged for detection (IDS) in event #1 "Emotet C2 wave"'


@pytest.mark.parametrize("empty_as_list", [False, True])
async def test_nothing_found_in_either_shape_is_unknown(empty_as_list: bool) -> None:
    async with MispEmulator(empty_as_list=empty_as_list) as misp:
        found = await enrich_with(misp, ip("45.83.9.9"))
    assert found.verdict is Verdict.UNKNOWN and found.score == 0
    assert found.reasons == ["MISP has no attribute with this value"]
    assert found.link is None


# What counts as a match


async def test_composite_values_match_on_either_half(
    service: MispEmulator, enricher: MispEnricher
) -> None:
    service.add_event("C2 with port", [("ip-dst|port", "203.0.113.9|8443")])
    service.add_event(
        "Resolutions", [("domain|ip", "evil.example|203.0.113.9")], threat_level="low"
    )
    found = await enricher.enrich(ip("203.0.113.9"))
    assert found.verdict is Verdict.MALICIOUS
    assert [event["id"] for event in found.data["events"]] == ["2", "3"]
    domain = await enricher.enrich(Observable(type=ObservableType.DOMAIN, value="EVIL.example."))
    assert domain.verdict is Verdict.MALICIOUS and domain.score == 75
    assert service.searches[-1]["value"] == "evil.example"


async def test_only_equal_values_count_not_what_a_wildcard_or_a_prefix_matched(
    service: MispEmulator, enricher: MispEnricher
) -> None:
    service.add_event("Kit", [("url", "http://evil.example/xx41/login")])
    found = await enricher.enrich(
        Observable(type=ObservableType.URL, value="http://evil.example/%41/login")
    )
    assert service.searches[-1]["value"] == "http://evil.example/%41/login"
    assert found.verdict is Verdict.UNKNOWN, "MISP's % wildcard matched another URL"
    assert found.data["raw"] == {"Attribute": []}


async def test_an_ipv6_address_matches_however_it_is_written(
    service: MispEmulator, enricher: MispEnricher
) -> None:
    service.add_event("v6 C2", [("ip-dst", "2001:db8::7")])
    found = await enricher.enrich(ip("2001:DB8:0:0::7"))
    assert service.searches[-1]["value"] == "2001:db8::7"
    assert found.verdict is Verdict.MALICIOUS


@pytest.mark.parametrize(
    ("kind", "value", "types"),
    [
        (
            ObservableType.IP,
            "45.83.9.9",
            ["ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"],
        ),
        (ObservableType.DOMAIN, "evil.example", ["domain", "hostname", "domain|ip"]),
        (ObservableType.HOSTNAME, "c2.evil.example", ["hostname", "domain", "domain|ip"]),
        (ObservableType.URL, "https://evil.example/a", ["url", "uri", "link"]),
        (
            ObservableType.EMAIL,
            "Boss@Evil.example",
            ["email", "email-src", "email-dst", "email-reply-to"],
        ),
        (
            ObservableType.HASH,
            "D41D8CD98F00B204E9800998ECF8427E",
            ["md5", "filename|md5", "malware-sample"],
        ),
        (ObservableType.HASH, "a" * 40, ["sha1", "filename|sha1"]),
        (ObservableType.HASH, "b" * 64, ["sha256", "filename|sha256"]),
        (ObservableType.HASH, "c" * 128, ["sha512", "filename|sha512"]),
    ],
)
async def test_each_observable_type_is_searched_among_its_attribute_types(
    service: MispEmulator,
    enricher: MispEnricher,
    kind: ObservableType,
    value: str,
    types: list[str],
) -> None:
    observable = Observable(type=kind, value=value)
    assert enricher.supports(observable)
    found = await enricher.enrich(observable)
    assert found.verdict is Verdict.UNKNOWN
    search = service.searches[-1]
    assert search["type"] == types
    assert search["value"] == (value.lower() if kind is not ObservableType.URL else value)
    assert search["returnFormat"] == "json"
    assert search["includeEventTags"] is True and search["includeContext"] is True


async def test_a_hash_in_a_file_attribute_is_found(
    service: MispEmulator, enricher: MispEnricher
) -> None:
    digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    service.add_event("Dropper", [("filename|sha256", f"invoice.exe|{digest}")])
    found = await enricher.enrich(Observable(type=ObservableType.HASH, value=digest.upper()))
    assert found.verdict is Verdict.MALICIOUS


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (ObservableType.HASH, "abc123"),
        (ObservableType.HASH, "z" * 32),
        (ObservableType.IP, "45.83.1"),
        (ObservableType.DOMAIN, "not a domain"),
        (ObservableType.URL, "evil.example/no-scheme"),
        (ObservableType.EMAIL, "nobody"),
        (ObservableType.IP, "  "),
    ],
)
async def test_a_malformed_value_is_refused_before_any_call(
    service: MispEmulator, enricher: MispEnricher, kind: ObservableType, value: str
) -> None:
    observable = Observable(type=kind, value=value)
    assert not enricher.supports(observable)
    with pytest.raises(RequestRejected):
        await enricher.enrich(observable)
    assert service.lookups == 0


# Tags


async def test_a_confirmed_false_positive_is_benign(
    service: MispEmulator, enricher: MispEnricher
) -> None:
    service.add_event(
        "Resolver", [("ip-dst", "192.0.2.53")], attribute_tags=['false-positive:confirmed="true"']
    )
    found = await enricher.enrich(ip("192.0.2.53"))
    assert found.verdict is Verdict.BENIGN and found.score == 0
    assert found.reasons[0] == (
        'MISP: a confirmed false positive in event #2 "Resolver" (threat level high)'
    )
    assert found.data["events"][0]["false_positive"] is True


async def test_a_false_positive_in_one_event_does_not_hide_another_that_flags_it(
    service: MispEmulator, enricher: MispEnricher
) -> None:
    service.add_event("Noise", [("ip-dst", BAD_IP)], tags=['false-positive:confirmed="true"'])
    found = await enricher.enrich(ip(BAD_IP))
    assert found.verdict is Verdict.MALICIOUS
    assert found.reasons[0].endswith('#1 "Emotet C2 wave" (threat level high)')


async def test_the_most_restricted_tlp_of_the_matches_marks_the_answer(
    service: MispEmulator, enricher: MispEnricher
) -> None:
    service.add_event("Partner report", [("ip-dst", BAD_IP)], tags=["tlp:red"], threat_level="low")
    service.add_event("Public report", [("ip-dst", BAD_IP)], tags=["tlp:white"])
    found = await enricher.enrich(ip(BAD_IP))
    assert found.data["tlp"] == Tlp.RED.value
    assert "the matching events are marked TLP:RED" in found.reasons
    assert not any("tlp:" in reason for reason in found.reasons if reason.startswith("tags"))
    plain = service.add_event("Untagged", [("domain", "plain.example")])
    untagged = await enricher.enrich(Observable(type=ObservableType.DOMAIN, value="plain.example"))
    assert untagged.data["tlp"] is None
    assert untagged.link == f"{WEB}/events/view/{plain.id}"


async def test_reading_fewer_attributes_than_matched_is_said(service: MispEmulator) -> None:
    for number in range(3):
        service.add_event(f"Wave {number}", [("ip-dst", "198.51.100.8")])
    found = await enrich_with(service, ip("198.51.100.8"), limit=2)
    assert service.searches[-1]["limit"] == 2
    assert found.data["attributes"] == 2
    assert "only the first 2 matching attributes were read" in found.reasons


# Errors


async def test_misp_refusing_the_key_with_403_is_a_refused_credential(
    service: MispEmulator, bad_credentials_enricher: MispEnricher
) -> None:
    with pytest.raises(CredentialsRejected) as refused:
        await bad_credentials_enricher.enrich(ip(BAD_IP))
    assert refused.value.status == 403
    assert "Authentication failed" in str(refused.value)
    assert BAD_KEY not in str(refused.value)
    assert service.lookups == 1


async def test_a_role_that_may_not_search_is_a_rejected_request(
    service: MispEmulator, enricher: MispEnricher
) -> None:
    service.forbid_searches()
    with pytest.raises(RequestRejected) as rejected:
        await enricher.enrich(ip(BAD_IP))
    assert "API searches are not allowed for this user role." in str(rejected.value)
    assert service.lookups == 1


async def test_a_spent_search_limit_waits_until_the_window_resets(
    service: MispEmulator, enricher: MispEnricher
) -> None:
    service.limit_searches(1)
    assert (await enricher.enrich(ip(BAD_IP))).verdict is Verdict.MALICIOUS
    with pytest.raises(RateLimited) as limited:
        await enricher.enrich(ip(BAD_IP))
    assert 850 <= limited.value.retry_after <= 900
    assert service.count("POST", "/attributes/restSearch", status=429) == 1


async def test_a_short_rate_limit_is_waited_out_with_misps_header(
    service: MispEmulator, enricher: MispEnricher
) -> None:
    service.throttle(1, seconds=1)
    found = await enricher.enrich(ip(BAD_IP))
    assert found.verdict is Verdict.MALICIOUS
    assert service.count("POST", "/attributes/restSearch", status=429) == 1
    assert service.count("POST", "/attributes/restSearch", status=200) == 1


async def test_an_outage_is_retried_then_reported_as_transient(service: MispEmulator) -> None:
    service.outage(2)
    found = await enrich_with(service, ip(BAD_IP))
    assert found.verdict is Verdict.MALICIOUS
    service.outage(5)
    with pytest.raises(TransientError):
        await enrich_with(service, ip(BAD_IP), max_retries=1)


# The check, the link and the options


async def test_the_check_reads_the_version_and_the_keys_user(service: MispEmulator) -> None:
    lines = await check("misp-test", options(service))
    assert lines == [
        f"reached MISP 2.4.190 at {service.base_url}",
        "key accepted: it acts as soar@example.org of ACME CERT (role User)",
    ]
    assert {call.method for call in service.calls} == {"GET"}
    with pytest.raises(CredentialsRejected):
        await check("misp-test", options(service, api_key=BAD_KEY))


async def test_the_link_opens_the_event_where_the_api_is_when_no_web_url_is_set(
    service: MispEmulator,
) -> None:
    settings = options(service).model_dump(exclude={"web_url"})
    settings["api_key"] = service.key
    made = MispEnricher("misp-test", MispOptions.model_validate(settings))
    try:
        found = await made.enrich(ip(BAD_IP))
    finally:
        await made.aclose()
    assert found.link == f"{service.base_url}/events/view/1"


def test_the_integration_is_installed_with_amber_and_needs_an_instance() -> None:
    found = installed().integrations["misp"]
    assert found is INTEGRATION
    assert found.kinds == ["enricher"]
    with pytest.raises(ValueError, match=r"enrichment\.providers\.misp\.options\.base_url"):
        options_of(found, "enrichment.providers", "misp", {"api_key": BAD_KEY})
    made = options_of(
        found,
        "enrichment.providers",
        "misp",
        {"base_url": "https://misp.internal/", "api_key": BAD_KEY},
    )
    assert isinstance(made, MispOptions)
    assert made.max_tlp is Tlp.AMBER
    assert made.base_url == "https://misp.internal"


async def test_nothing_secret_is_in_a_log(
    service: MispEmulator,
    enricher: MispEnricher,
    bad_credentials_enricher: MispEnricher,
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

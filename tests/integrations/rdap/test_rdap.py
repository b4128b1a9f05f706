"""The RDAP enricher against a bootstrap server and registry on loopback over real HTTP:
the enricher contract (its "known bad" is a domain registered days ago, its "bad key" a
server that wants an authentication), then RDAP's own ways — who holds a network, a
domain's registrar, registrant and age, a name below a registered domain, no record,
the bootstrap's redirect followed, the Accept header, 429 with Retry-After, a base_url
that is no RDAP server, the check, and the options."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from integrations.rdap import INTEGRATION, RdapEnricher, RdapOptions
from integrations.rdap.client import check
from soar.alerts.models import Observable, ObservableType
from soar.enrichment.models import Tlp, Verdict
from soar.integrations.errors import (
    CredentialsRejected,
    RateLimited,
    RequestRejected,
    TransientError,
)
from soar.runtime.integrations import installed, options_of
from soar.testing.contract import EnricherContract
from soar.testing.emulators.rdap import RdapEmulator

YOUNG = "secure-login-portal.example"
NOW = datetime.now(UTC)


def observable(kind: ObservableType, value: str) -> Observable:
    return Observable(type=kind, value=value)


def domain(value: str) -> Observable:
    return observable(ObservableType.DOMAIN, value)


def ip(value: str) -> Observable:
    return observable(ObservableType.IP, value)


def options(service: RdapEmulator, **extra: object) -> RdapOptions:
    settings: dict[str, object] = {"base_url": service.base_url, "max_wait_seconds": 5}
    settings.update(extra)
    return RdapOptions.model_validate(settings)


def seeded(emulator: RdapEmulator) -> RdapEmulator:
    emulator.add_domain(YOUNG, registrar="Cheap Names LLC", registered=NOW - timedelta(days=3))
    emulator.add_domain(
        "example.com",
        registrar="RESERVED-Internet Assigned Numbers Authority",
        registrant="Internet Assigned Numbers Authority",
        registered=datetime(1995, 8, 14, 4, tzinfo=UTC),
        expires=datetime(2027, 8, 13, 4, tzinfo=UTC),
    )
    emulator.add_network(
        "8.0.0.0/9", name="LVLT-ORG-8-8", holder="Level 3 Parent, LLC", registered=NOW
    )
    emulator.add_network(
        "8.8.8.0/24",
        name="GOGL",
        holder="Google LLC",
        registered=datetime(2014, 3, 14, tzinfo=UTC),
        abuse_email="network-abuse@google.com",
    )
    return emulator


@pytest.fixture
async def service() -> AsyncIterator[RdapEmulator]:
    emulator = seeded(RdapEmulator())
    async with emulator:
        yield emulator


@pytest.fixture
async def enricher(service: RdapEmulator) -> AsyncIterator[RdapEnricher]:
    made = RdapEnricher("rdap-test", options(service))
    yield made
    await made.aclose()


@pytest.fixture
async def bad_credentials_enricher(service: RdapEmulator) -> AsyncIterator[RdapEnricher]:
    made = RdapEnricher("rdap-test", options(service, base_url=f"{service.base_url}/restricted"))
    yield made
    await made.aclose()


@pytest.fixture
def malicious() -> Observable:
    return domain(YOUNG)


@pytest.fixture
def unknown() -> Observable:
    return ip("8.8.8.8")


@pytest.fixture
def unsupported() -> Observable:
    return observable(ObservableType.HASH, "44d88612fea8a8f36de82e1278abb02f")


class TestRdapContract(EnricherContract):
    """The contract, through the bootstrap's redirect."""


class TestRdapWithoutABootstrapContract(EnricherContract):
    """The contract again, against a registry asked directly."""

    @pytest.fixture
    async def service(self) -> AsyncIterator[RdapEmulator]:
        emulator = seeded(RdapEmulator(redirect=False))
        async with emulator:
            yield emulator


# Addresses


async def test_an_address_is_unknown_with_who_holds_its_network(
    service: RdapEmulator, enricher: RdapEnricher
) -> None:
    found = await enricher.enrich(ip("8.8.8.8"))
    assert (found.verdict, found.score) == (Verdict.UNKNOWN, 0)
    assert found.reasons == [
        "RDAP: 8.8.8.8 is in GOGL 8.8.8.0 - 8.8.8.255, US, held by Google LLC",
        "abuse contact: network-abuse@google.com",
        "network registered on 2014-03-14",
    ]
    assert found.data["holder"] == "Google LLC"
    assert found.data["raw"]["handle"] == "NET-8-8-8-0-1"
    assert found.link == "https://rdap.registry.example/ip/8.8.8.0/24"


async def test_the_bootstrap_redirect_is_followed_with_the_rdap_accept_header(
    service: RdapEmulator, enricher: RdapEnricher
) -> None:
    await enricher.enrich(ip("8.8.4.4"))
    assert [(call.path, call.status) for call in service.calls] == [
        ("/ip/8.8.4.4", 302),
        ("/registry/ip/8.8.4.4", 200),
    ]
    assert service.accepts == ["application/rdap+json, application/json"]


async def test_an_ipv6_address_and_an_address_no_registry_holds(
    service: RdapEmulator, enricher: RdapEnricher
) -> None:
    service.add_network("2a00:1450::/29", name="EU-GOOGLE-1", holder="Google Ireland", country="IE")
    held = await enricher.enrich(ip("2a00:1450:4001:0829::200e"))
    assert held.reasons[0].startswith("RDAP: 2a00:1450:4001:829::200e is in EU-GOOGLE-1 ")
    assert service.calls[0].path == "/ip/2a00:1450:4001:829::200e"
    nobody = await enricher.enrich(ip("81.2.69.160"))
    assert (nobody.verdict, nobody.reasons) == (
        Verdict.UNKNOWN,
        ["RDAP has no record of 81.2.69.160"],
    )


# Domains


async def test_a_domain_registered_days_ago_is_suspicious(
    service: RdapEmulator, enricher: RdapEnricher
) -> None:
    found = await enricher.enrich(domain(YOUNG))
    assert (found.verdict, found.score) == (Verdict.SUSPICIOUS, 40)
    assert found.reasons == [
        f"RDAP: {YOUNG} was registered only 3 days ago, on "
        f"{NOW - timedelta(days=3):%Y-%m-%d} through Cheap Names LLC"
    ]
    assert found.data["age_days"] == 3
    assert found.data["abuse_email"] == "abuse@registrar.example"


async def test_an_old_domain_is_unknown_with_its_registrar_and_registrant(
    service: RdapEmulator, enricher: RdapEnricher
) -> None:
    found = await enricher.enrich(domain("Example.COM."))
    assert (found.verdict, found.score) == (Verdict.UNKNOWN, 0)
    assert found.reasons == [
        "RDAP: example.com was registered on 1995-08-14 through RESERVED-Internet Assigned "
        "Numbers Authority",
        "registrant: Internet Assigned Numbers Authority",
        "registration expires on 2027-08-13",
    ]
    assert found.link == "https://rdap.registry.example/domain/example.com"


@pytest.mark.parametrize(
    ("name", "young_days", "verdict"),
    [
        (YOUNG, None, Verdict.UNKNOWN),
        (YOUNG, 3, Verdict.UNKNOWN),
        (YOUNG, 4, Verdict.SUSPICIOUS),
        ("example.com", 20_000, Verdict.SUSPICIOUS),
    ],
)
async def test_how_young_is_suspicious_is_an_option(
    service: RdapEmulator, name: str, young_days: int | None, verdict: Verdict
) -> None:
    enricher = RdapEnricher("rdap-test", options(service, young_domain_days=young_days))
    try:
        found = await enricher.enrich(domain(name))
    finally:
        await enricher.aclose()
    assert found.verdict is verdict
    assert ("registered only" in found.reasons[0]) is (verdict is Verdict.SUSPICIOUS)


async def test_a_name_below_a_registered_domain_is_answered_by_that_domain(
    service: RdapEmulator, enricher: RdapEnricher
) -> None:
    found = await enricher.enrich(domain(f"mail.login.{YOUNG}"))
    assert found.verdict is Verdict.SUSPICIOUS
    assert found.reasons[0].startswith(
        f"RDAP: mail.login.{YOUNG} is under {YOUNG}, which was registered only 3 days ago"
    )
    assert [call.path for call in service.calls if call.status == 302] == [
        f"/domain/mail.login.{YOUNG}",
        f"/domain/login.{YOUNG}",
        f"/domain/{YOUNG}",
    ]


async def test_an_unregistered_domain_is_unknown_and_the_walk_stops_above_the_tld(
    service: RdapEmulator, enricher: RdapEnricher
) -> None:
    found = await enricher.enrich(domain("www.never-registered.example"))
    assert found.reasons == ["RDAP has no registration of www.never-registered.example"]
    assert [call.path for call in service.calls if call.status == 302] == [
        "/domain/www.never-registered.example",
        "/domain/never-registered.example",
    ]


async def test_a_domain_without_a_published_registration_date(
    service: RdapEmulator, enricher: RdapEnricher
) -> None:
    service.add_domain("quiet.example", registrar="Private Registrar", registered=None)
    found = await enricher.enrich(domain("quiet.example"))
    assert found.verdict is Verdict.UNKNOWN
    assert found.reasons[0] == (
        "RDAP: quiet.example is registered through Private Registrar; its registration date "
        "is not published"
    )


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (ObservableType.URL, "https://evil.example/"),
        (ObservableType.DOMAIN, "invoice.pdf.exe"),
        (ObservableType.IP, "10.0.0.256"),
        (ObservableType.HOSTNAME, "WS-01"),
    ],
)
async def test_what_rdap_cannot_look_up_is_refused_without_a_call(
    service: RdapEmulator, enricher: RdapEnricher, kind: ObservableType, value: str
) -> None:
    refused = observable(kind, value)
    assert not enricher.supports(refused)
    with pytest.raises(RequestRejected):
        await enricher.enrich(refused)
    assert service.lookups == 0


# Errors and limits


async def test_a_server_that_wants_authentication_says_so(
    service: RdapEmulator, bad_credentials_enricher: RdapEnricher
) -> None:
    with pytest.raises(CredentialsRejected) as refused:
        await bad_credentials_enricher.enrich(domain(YOUNG))
    assert "asks for an authentication this integration does not send (401)" in str(refused.value)
    assert "Unauthorized: This service requires authentication." in str(refused.value)


async def test_a_long_retry_after_is_a_timed_retry(
    service: RdapEmulator, enricher: RdapEnricher
) -> None:
    service.throttle(1, seconds=120)
    with pytest.raises(RateLimited) as limited:
        await enricher.enrich(ip("8.8.8.8"))
    assert limited.value.retry_after == 120
    assert service.lookups == 1


async def test_an_outage_is_retried_and_a_long_one_is_transient(
    service: RdapEmulator, enricher: RdapEnricher
) -> None:
    service.outage(2)
    assert (await enricher.enrich(domain(YOUNG))).verdict is Verdict.SUSPICIOUS
    service.outage(4)
    with pytest.raises(TransientError, match="503"):
        await enricher.enrich(domain(YOUNG))


async def test_an_answer_that_is_not_rdap_says_base_url_may_be_wrong(
    service: RdapEmulator,
) -> None:
    enricher = RdapEnricher("rdap-test", options(service, base_url=f"{service.base_url}/portal"))
    try:
        with pytest.raises(RequestRejected, match="is base_url an RDAP server"):
            await enricher.enrich(ip("8.8.8.8"))
    finally:
        await enricher.aclose()


# Options, the check, the descriptor


def test_defaults_are_rdap_org_green_and_no_key() -> None:
    settings = RdapOptions.model_validate({})
    assert settings.base_url == "https://rdap.org"
    assert settings.max_tlp is Tlp.GREEN
    assert settings.young_domain_days == 30
    assert settings.secrets() == []
    with pytest.raises(ValueError, match="RDAP takes no API key"):
        RdapOptions.model_validate({"api_key": "some-key"})


async def test_the_check_says_who_holds_a_known_address(service: RdapEmulator) -> None:
    assert await check("rdap-test", options(service)) == [
        f"reached {service.base_url}",
        "8.8.8.8 is in GOGL",
    ]
    with pytest.raises(RequestRejected, match="is base_url an RDAP server"):
        await check("rdap-test", options(service, base_url=f"{service.base_url}/nothing"))


def test_the_integration_is_installed_and_names_a_bad_option() -> None:
    found = installed().integrations["rdap"]
    assert found is INTEGRATION
    assert found.kinds == ["enricher"]
    with pytest.raises(ValueError, match=r"enrichment\.providers\.whois\.options\.young"):
        options_of(found, "enrichment.providers", "whois", {"young_domain_days": 0})

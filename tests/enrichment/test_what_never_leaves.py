"""What must not leave: non-public addresses, internal names, user names and observables
marked above a provider's limit reach no emulator at all; invalid observables are
refused before any call."""

from __future__ import annotations

import pytest

from integrations.misp import MispEnricher, MispOptions
from soar.alerts.models import Observable, ObservableRole, ObservableType
from soar.enrichment.activities import TriageActivities, run_enrichers
from soar.enrichment.exposure import exposure
from soar.enrichment.inventory import Inventory
from soar.enrichment.markings import Markings
from soar.enrichment.models import AssetContext, SkipKind, SourceStatus, Tlp, Verdict
from soar.enrichment.observables import canonical
from soar.testing.emulators.abuseipdb import AbuseIpdbEmulator
from soar.testing.emulators.misp import MispEmulator

from .support import BAD, abuseipdb, alert, close, ip, registry

INTERNAL_ADDRESSES = [
    "10.1.2.3",  # RFC 1918
    "192.168.7.7",
    "100.64.12.1",  # carrier-grade NAT
    "127.0.0.1",
    "169.254.169.254",  # link-local (cloud metadata)
    "192.0.2.10",  # documentation
    "2001:db8::1",
    "fd00::5",  # unique local
    "::ffff:10.0.0.9",  # IPv4-mapped private
    "240.0.0.1",  # reserved
]


def misp(emulator: MispEmulator) -> MispEnricher:
    return MispEnricher(
        "misp",
        MispOptions(base_url=emulator.base_url, api_key=emulator.key, max_retries=0),
    )


def name(kind: ObservableType, value: str) -> Observable:
    return Observable(type=kind, value=value, role=ObservableRole.HOST)


async def test_internal_addresses_and_names_reach_no_emulator() -> None:
    abuse, intel = AbuseIpdbEmulator(), MispEmulator()
    inventory = Inventory([AssetContext(hostname="pay-01.shop.example.com", owner="ops")])
    observables = [
        *(ip(a) for a in INTERNAL_ADDRESSES),
        name(ObservableType.HOSTNAME, "FILESERVER"),  # no dot
        name(ObservableType.HOSTNAME, "db.corp.acme.com"),  # configured internal suffix
        name(ObservableType.DOMAIN, "printer.local"),  # a default one
        name(ObservableType.HOSTNAME, "pay-01.shop.example.com"),  # known to the inventory
        Observable(type=ObservableType.URL, value="http://10.0.0.8/admin"),
        Observable(type=ObservableType.URL, value="https://wiki.corp.acme.com/x"),
        Observable(type=ObservableType.EMAIL, value="j.doe@corp.acme.com"),
        Observable(type=ObservableType.USER, value="j.doe"),
    ]
    async with abuse, intel:
        built = registry(
            abuseipdb(abuse),
            misp(intel),
            inventory=inventory,
            internal_suffixes=["corp.acme.com", "local"],
        )
        run = await run_enrichers(built, observables)
        await close(built)

    assert abuse.calls == [] and intel.calls == []
    looked_at = {v.observable.value for v in run.verdicts}
    assert "::ffff:10.0.0.9" not in looked_at and "10.0.0.9" in looked_at  # one spelling
    for verdict in run.verdicts:
        assert verdict.internal, verdict
        assert {s.skip for s in verdict.sources} <= {SkipKind.INTERNAL, SkipKind.UNSUPPORTED}
        assert verdict.reasons[0] == f"never sent out: {verdict.internal}"
    by_value = {v.observable.value: v for v in run.verdicts}
    assert "fileserver" not in by_value  # no source looks bare names up at all...
    assert exposure(canonical(observables[10]), [], Inventory()) == (
        "fileserver is a name without a domain (internal)"  # ...and none would be asked
    )
    assert by_value["db.corp.acme.com"].internal == (
        "db.corp.acme.com is under the internal domain corp.acme.com"
    )
    assert "inventory: pay-01.shop.example.com, criticality medium, owner ops" in (
        by_value["pay-01.shop.example.com"].reasons
    )
    assert by_value["100.64.12.1"].internal == "100.64.12.1 is a private address"
    address_answers = [e for e in run.enrichments if e.provider == "address"]
    assert len(address_answers) == len(INTERNAL_ADDRESSES)  # the local classifier still ran


async def test_an_observable_marked_red_reaches_no_emulator_and_says_why() -> None:
    abuse, intel = AbuseIpdbEmulator(), MispEmulator()
    async with abuse, intel:
        built = registry(abuseipdb(abuse), misp(intel))
        activities = TriageActivities(
            Inventory(), built, markings=Markings({"soc": Tlp.GREEN}, default=Tlp.AMBER)
        )
        red = await activities.triage_alert(alert(ip(BAD), marking="red", source="soc"))
        amber = await activities.triage_alert(alert(ip(BAD), key="2", source="partner"))
        await close(built)

    assert abuse.calls == [] and intel.lookups == 1  # only the amber one, only to MISP
    sources = {s.provider: s for s in red.observables[0].sources}
    assert sources["abuseipdb"].skip is SkipKind.MARKING
    assert sources["abuseipdb"].reason == "marked TLP:RED, above abuseipdb's limit (TLP:GREEN)"
    assert sources["misp"].reason == "marked TLP:RED, above misp's limit (TLP:AMBER)"
    assert red.observables[0].tlp is Tlp.RED
    assert red.verdict is not Verdict.MALICIOUS
    amber_sources = {s.provider: s for s in amber.observables[0].sources}
    assert amber_sources["abuseipdb"].reason == (
        "marked TLP:AMBER, above abuseipdb's limit (TLP:GREEN)"
    )
    assert amber_sources["misp"].status is SourceStatus.ANSWERED


@pytest.mark.parametrize(
    ("kind", "value", "why"),
    [
        (ObservableType.IP, "999.1.1.1", "'999.1.1.1' is not a valid IP address"),
        (ObservableType.IP, "  ", "an empty ip"),
        (ObservableType.HASH, "", "an empty hash"),
        (ObservableType.HASH, "xyz", "'xyz' is not an MD5, SHA-1, SHA-256 or SHA-512 hash"),
        (ObservableType.DOMAIN, "bad..example", "'bad..example' is not a valid host name"),
        (ObservableType.URL, "not a url", "'not a url' is not a URL with a scheme and a host"),
    ],
)
async def test_invalid_observables_are_refused_before_any_call(
    kind: ObservableType, value: str, why: str
) -> None:
    intel = MispEmulator()
    async with intel:
        built = registry(misp(intel))
        run = await run_enrichers(built, [Observable(type=kind, value=value)])
        await close(built)

    assert intel.calls == []
    [verdict] = run.verdicts
    assert verdict.refused == why and verdict.sources == []
    assert verdict.reasons == [f"not looked up: {why}"]

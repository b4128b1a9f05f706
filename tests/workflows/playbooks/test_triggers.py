"""What each built-in playbook triggers on, and above all what it must not trigger on.

A trigger is what justifies the playbook's action: isolating a host needs evidence the
host fell, blocking an address needs a public source that attacked or that the triage
condemns, disabling an account needs a sign it was taken over. An alert merely naming a
host, an address or a user is none of these. Matching is pure, so these tests call the
triggers (and, for the cases the issue was about, the `playbooks.match` activity the
case calls) directly, on alerts built here or parsed from `tests/fixtures/siem/`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from pydantic import ValidationError

from soar.alerts.models import Alert, Observable, ObservableRole, ObservableType, Severity
from soar.approvals.models import ApprovalSettings
from soar.cases.activities import MatchRequest
from soar.enrichment.inventory import Inventory
from soar.enrichment.models import (
    AddressClass,
    AssetContext,
    Criticality,
    Enrichment,
    IdentityContext,
    Triage,
    Verdict,
)
from soar.enrichment.providers import EnricherRegistry
from soar.enrichment.scoring import triage
from soar.ingest.parsers import get_parser
from soar.ingest.parsers.base import ParseContext
from tests.conftest import SAMPLES
from tests.workflows.playbooks.scenarios import SCENARIOS
from tests.workflows.sdk_support import alert, triaged
from workflows.playbooks.evidence import BAD_SCORE
from workflows.sdk import ObservableMatch, Trigger, discover_playbooks
from workflows.sdk.activities import PlaybookActivities

IP, HOST, USER = ObservableType.IP, ObservableType.HOSTNAME, ObservableType.USER
SOURCE, DESTINATION = ObservableRole.SOURCE, ObservableRole.DESTINATION
ACTOR, TARGET, ON = ObservableRole.ACTOR, ObservableRole.TARGET, ObservableRole.HOST
ISOLATE, BLOCK, DISABLE = "compromised_host", "malicious_ip", "suspicious_user"

INVENTORY = Inventory(
    hosts=[
        AssetContext(hostname="bastion-01", owner="ops", criticality=Criticality.CRITICAL),
        AssetContext(hostname="scanner-01", criticality=Criticality.HIGH, tags=["scanner"]),
        AssetContext(hostname="db-02", criticality=Criticality.HIGH),
    ],
    users=[IdentityContext(user="j.doe", vip=True)],
)
BUILT_INS = {
    spec.name: spec for spec in discover_playbooks() if spec.name in {ISOLATE, BLOCK, DISABLE}
}

Observables = Sequence[tuple[ObservableType, str, ObservableRole]]


def rated(value: str, verdict: Verdict, observable_type: ObservableType = IP) -> Enrichment:
    """A provider's opinion of one observable."""
    return Enrichment(
        provider="intel",
        observable=Observable(type=observable_type, value=value),
        verdict=verdict,
        score={Verdict.MALICIOUS: 95, Verdict.SUSPICIOUS: 60}.get(verdict, 0),
    )


def scored(item: Alert, *enrichments: Enrichment) -> Triage:
    """The alert's triage against this file's inventory, with these providers' opinions."""
    return triage(item, list(enrichments), INVENTORY)


def triggered(item: Alert, found: Triage | None) -> set[str]:
    """The built-ins whose triggers match."""
    return {name for name, spec in BUILT_INS.items() if spec.matches(item, found)}


def parsed(source: str, file: str, **replace: str) -> Alert:
    """The first alert of a sample payload, after replacing text in it (a documentation
    address by a public one, a level)."""
    text = (SAMPLES / file).read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, f"{old!r} is not in {file}"
        text = text.replace(old, new)
    parser = get_parser(source)
    assert parser is not None
    items = parser(json.loads(text), ParseContext(source=source))
    first = items[0]
    assert isinstance(first, Alert), first
    return first


async def matched(item: Alert, found: Triage | None) -> set[str]:
    """The built-ins the `playbooks.match` activity launches, as the case asks it."""
    activities = PlaybookActivities(
        list(BUILT_INS.values()), approvals=ApprovalSettings(), enrichers=EnricherRegistry()
    )
    launches = await activities.match_playbooks(MatchRequest(alert=item, triage=found))
    return {launch.name for launch in launches}


class TestTriggerConditions:
    """The conditions the SDK gained so that triggers can say what justifies an action."""

    def test_unless_rule_rules_an_alert_out_by_its_rule_or_title(self) -> None:
        trigger = Trigger(rule="re:malware", unless_rule="re:brute.?force")
        assert trigger.matches(alert("u1", title="Malware detected"))
        assert not trigger.matches(alert("u2", title="Brute force by malware-infected bots"))
        assert not trigger.matches(alert("u3", title="Malware", rule="SSH Brute-Force"))
        assert Trigger(unless_rule="*scan*").matches(alert("u4", title="Beacon"))
        with pytest.raises(ValidationError, match="not a valid regular expression"):
            Trigger(unless_rule="re:(unclosed")

    def test_an_observable_match_needs_the_type_and_one_of_the_roles(self) -> None:
        acting = Trigger(observables=(ObservableMatch(type=HOST, roles=frozenset({ACTOR})),))
        assert acting.matches(alert("o1", observables=[(HOST, "ws-1", ACTOR)]))
        assert not acting.matches(alert("o2", observables=[(HOST, "ws-1", TARGET)]))
        assert not acting.matches(alert("o3", observables=[(USER, "ws-1", ACTOR)]))
        anyhow = Trigger(observables=(ObservableMatch(type=HOST),))
        assert anyhow.matches(alert("o4", observables=[(HOST, "ws-1", TARGET)]))

    def test_every_observable_match_must_be_met(self) -> None:
        both = Trigger(
            observables=(
                ObservableMatch(type=HOST, roles=frozenset({ON})),
                ObservableMatch(type=USER, roles=frozenset({ACTOR})),
            )
        )
        assert both.matches(alert("b1", observables=[(HOST, "h", ON), (USER, "u", ACTOR)]))
        assert not both.matches(alert("b2", observables=[(HOST, "h", ON), (USER, "u", TARGET)]))

    def test_an_address_class_comes_from_the_triage_else_from_the_address(self) -> None:
        public = Trigger(
            observables=(
                ObservableMatch(type=IP, address_classes=frozenset({AddressClass.PUBLIC})),
            )
        )
        outside = alert("a1", observables=[(IP, "45.1.2.3", SOURCE)])
        assert public.matches(outside)
        assert not public.matches(alert("a2", observables=[(IP, "203.0.113.9", SOURCE)]))
        assert not public.matches(alert("a3", observables=[(IP, "::ffff:10.0.0.1", SOURCE)]))
        assert not public.matches(alert("a4", observables=[(IP, "not-an-address", SOURCE)]))
        assert public.matches(alert("a5", observables=[(IP, "2a00:1450:4001::1", SOURCE)]))
        ours = triaged(outside).model_copy(
            update={"address_classes": {"45.1.2.3": AddressClass.PRIVATE}}
        )
        assert not public.matches(outside, ours)

    def test_address_classes_are_for_addresses_only(self) -> None:
        with pytest.raises(ValidationError, match="only apply to ip"):
            ObservableMatch(type=HOST, address_classes=frozenset({AddressClass.PUBLIC}))

    def test_verdict_and_score_need_a_triage_that_reaches_them(self) -> None:
        item = alert("v1", severity=Severity.HIGH, observables=[(IP, "45.1.2.3", SOURCE)])
        plain = scored(item)
        assert (plain.verdict, plain.score) == (Verdict.SUSPICIOUS, 55)
        at_least_suspicious = Trigger(min_verdict=Verdict.SUSPICIOUS)
        assert at_least_suspicious.matches(item, plain)
        assert not at_least_suspicious.matches(item, None)
        assert not Trigger(min_verdict=Verdict.MALICIOUS).matches(item, plain)
        assert Trigger(min_verdict=Verdict.MALICIOUS).matches(
            item, scored(item, rated("45.1.2.3", Verdict.MALICIOUS))
        )
        assert not Trigger(min_verdict=Verdict.UNKNOWN).matches(
            item, plain.model_copy(update={"verdict": Verdict.BENIGN})
        )
        assert Trigger(min_score=55).matches(item, plain)
        assert not Trigger(min_score=56).matches(item, plain)
        assert not Trigger(min_score=0).matches(item, None)
        with pytest.raises(ValidationError):
            Trigger(min_score=101)

    def test_the_new_conditions_are_described(self) -> None:
        trigger = Trigger(
            rule="*malware*",
            unless_rule="*brute*",
            observables=(
                ObservableMatch(
                    type=IP,
                    roles=frozenset({SOURCE, ACTOR}),
                    address_classes=frozenset({AddressClass.PUBLIC}),
                ),
                ObservableMatch(type=HOST),
            ),
            min_verdict=Verdict.SUSPICIOUS,
            min_score=65,
        )
        assert trigger.describe() == (
            "rule *malware*; not rule *brute*; a public ip as actor or source; a hostname; "
            "verdict ≥ suspicious; score ≥ 65"
        )

    def test_a_label_stands_for_the_patterns_in_the_description(self) -> None:
        trigger = Trigger(
            label="rule names malware",
            sources=("edr-*",),
            rule="re:malware|trojan",
            unless_rule="*brute*",
            min_severity=Severity.HIGH,
        )
        assert trigger.describe() == "rule names malware; severity ≥ high"
        assert trigger.matches(alert("l1", source="edr-eu", title="Trojan found"))
        assert not trigger.matches(alert("l2", source="splunk", title="Trojan found"))


class TestMustNotTrigger:
    """The alerts the issue found, and their relatives: none justifies isolating, and only
    an outside attacker justifies blocking."""

    async def test_forty_ssh_brute_force_alerts_against_the_bastion_isolate_nothing(
        self,
    ) -> None:
        attackers = [f"45.{33 + n % 4}.{n}.{200 - n}" for n in range(40)]
        for n, attacker in enumerate(attackers):
            item = alert(
                f"bastion-brute-{n}",
                source="wazuh",
                title="SSH brute force",
                rule="SSH brute force",
                severity=Severity.CRITICAL if n % 2 else Severity.HIGH,
                observables=[
                    (IP, attacker, SOURCE),
                    (HOST, "bastion-01", ON),
                    (USER, "root", ACTOR),
                ],
            )
            found = scored(item, rated(attacker, Verdict.MALICIOUS))
            assert found.verdict is Verdict.MALICIOUS
            assert await matched(item, found) == {BLOCK}, (n, item.title)

    def test_a_brute_force_reported_by_an_edr_or_with_the_host_acting_isolates_nothing(
        self,
    ) -> None:
        observables = [(IP, "45.9.8.7", SOURCE), (HOST, "bastion-01", ACTOR)]
        for source, title in [
            ("crowdstrike", "Brute force against the bastion"),
            ("defender-eu", "Suspected brute-force attack (NTLM)"),
            ("generic", "Brute force from a C2 address"),
            ("generic", "Password spray by malware-infected bots"),
        ]:
            item = alert(
                f"edr-brute-{source}-{title}",
                source=source,
                title=title,
                severity=Severity.CRITICAL,
                observables=observables,
            )
            found = scored(item, rated("45.9.8.7", Verdict.MALICIOUS))
            assert found.verdict is Verdict.MALICIOUS
            assert ISOLATE not in triggered(item, found), title
            assert BLOCK in triggered(item, found), title

    @pytest.mark.parametrize(
        ("file", "source", "replace"),
        [
            ("wazuh.json", "wazuh", {'"level": 10': '"level": 13'}),
            ("guardduty.json", "guardduty", {'"severity": 5.0': '"severity": 8.5'}),
            ("datadog.json", "datadog", {}),
            ("alertmanager.json", "alertmanager", {}),
        ],
        ids=["wazuh-invalid-user", "guardduty-rdp-brute-force", "datadog-spray", "sweep"],
    )
    def test_attempts_in_sample_payloads_isolate_and_disable_nothing(
        self, file: str, source: str, replace: dict[str, str]
    ) -> None:
        item = parsed(source, file, **replace)
        assert item.severity.level in {Severity.MEDIUM, Severity.HIGH}
        found = scored(item, *(rated(o.value, Verdict.MALICIOUS) for o in item.observables))
        assert found.verdict is Verdict.MALICIOUS
        assert triggered(item, found) & {ISOLATE, DISABLE} == set()

    def test_attempts_in_sample_payloads_block_only_once_their_source_is_public(self) -> None:
        doc = parsed("guardduty", "guardduty.json", **{'"severity": 5.0': '"severity": 8.5'})
        assert triggered(doc, scored(doc)) == set()
        public = parsed(
            "guardduty",
            "guardduty.json",
            **{'"severity": 5.0': '"severity": 8.5', "198.51.100.203": "45.83.64.10"},
        )
        assert triggered(public, scored(public)) == {BLOCK}
        wazuh = parsed(
            "wazuh", "wazuh.json", **{'"level": 10': '"level": 13', "203.0.113.77": "45.83.64.11"}
        )
        assert triggered(wazuh, scored(wazuh)) == {BLOCK}

    async def test_a_port_scan_from_an_internal_scanner_neither_isolates_nor_blocks(
        self,
    ) -> None:
        for n, title in enumerate(["Port scan detected", "Nmap scan", "Host sweep from scanner"]):
            item = alert(
                f"internal-scan-{n}",
                source="suricata",
                title=title,
                severity=Severity.CRITICAL,
                observables=[
                    (IP, "10.20.0.5", SOURCE),
                    (HOST, "scanner-01", ACTOR),
                    (IP, "10.30.0.9", DESTINATION),
                    (HOST, "db-02", TARGET),
                ],
            )
            found = scored(item, rated("10.20.0.5", Verdict.MALICIOUS))
            assert found.verdict is Verdict.MALICIOUS
            assert await matched(item, found) == set(), title

    @pytest.mark.parametrize(
        "source",
        [
            "192.168.4.4",
            "100.64.1.1",
            "198.51.100.7",
            "127.0.0.1",
            "169.254.1.1",
            "::ffff:10.1.1.1",
        ],
    )
    def test_a_non_public_source_is_never_blocked(self, source: str) -> None:
        item = alert(
            f"non-public-{source}",
            title="SSH brute force",
            severity=Severity.CRITICAL,
            observables=[(IP, source, SOURCE)],
        )
        found = scored(item, rated(source, Verdict.MALICIOUS))
        assert found.verdict is Verdict.MALICIOUS
        assert BLOCK not in triggered(item, found)

    async def test_a_high_severity_login_failure_isolates_and_disables_nothing(self) -> None:
        titles = [
            "Multiple failed logins to db-02",
            "Logon failure burst on db-02",
            "Authentication failed for svc-db",
            "Failed sign-in burst",
        ]
        for n, title in enumerate(titles):
            for source, launched in [("10.12.13.14", set()), ("45.12.13.14", {BLOCK})]:
                item = alert(
                    f"login-failure-{n}-{source}",
                    title=title,
                    severity=Severity.HIGH,
                    observables=[(IP, source, SOURCE), (HOST, "db-02", ON), (USER, "j.doe", ACTOR)],
                )
                found = scored(item, rated("j.doe", Verdict.MALICIOUS, USER))
                assert found.verdict is Verdict.MALICIOUS
                assert await matched(item, found) == launched, (title, source)

    def test_a_host_or_a_user_only_attacked_is_not_acted_on_by_verdict(self) -> None:
        item = alert(
            "attacked",
            title="Suspicious inbound connection",
            severity=Severity.CRITICAL,
            observables=[(HOST, "bastion-01", TARGET), (USER, "j.doe", TARGET)],
        )
        found = scored(item, rated("bastion-01", Verdict.MALICIOUS, HOST))
        assert found.verdict is Verdict.MALICIOUS
        assert triggered(item, found) == set()

    def test_compromise_words_about_a_destination_host_isolate_nothing(self) -> None:
        item = alert(
            "to-c2",
            title="C2 server contacted",
            severity=Severity.CRITICAL,
            observables=[(IP, "10.1.1.9", SOURCE), (HOST, "c2-relay", DESTINATION)],
        )
        assert triggered(item, scored(item)) == set()

    def test_a_medium_edr_detection_or_a_low_public_attack_does_not_trigger(self) -> None:
        edr = alert(
            "edr-medium",
            source="crowdstrike",
            title="Malware detected: adware",
            severity=Severity.MEDIUM,
            observables=[(HOST, "ws-33", ON)],
        )
        assert triggered(edr, scored(edr)) == set()
        low = alert(
            "low-brute",
            title="SSH brute force",
            severity=Severity.LOW,
            observables=[(IP, "45.1.1.1", SOURCE)],
        )
        assert triggered(low, scored(low)) == set()

    def test_an_ordinary_suspicious_public_source_is_not_blocked(self) -> None:
        item = alert(
            "ordinary",
            title="Inbound connection",
            severity=Severity.HIGH,
            observables=[(IP, "45.2.3.4", SOURCE), (HOST, "db-02", ON)],
        )
        found = scored(item)
        assert (found.verdict, found.score) == (Verdict.SUSPICIOUS, 63)
        assert triggered(item, found) == set()

    def test_guessing_at_an_account_does_not_disable_it(self) -> None:
        for n, title in enumerate(
            ["Password spraying against the SSO portal", "Credential stuffing against SSO"]
        ):
            item = alert(
                f"guess-{n}",
                title=title,
                severity=Severity.CRITICAL,
                observables=[(USER, "j.doe", ACTOR), (IP, "10.9.9.9", SOURCE)],
            )
            found = scored(item, rated("j.doe", Verdict.MALICIOUS, USER))
            assert found.verdict is Verdict.MALICIOUS
            assert DISABLE not in triggered(item, found), title


class TestMustTrigger:
    def test_an_edr_malware_detection_isolates_the_host(self) -> None:
        item = alert(
            "edr-malware",
            source="crowdstrike",
            title="Malware detected: Emotet loader",
            severity=Severity.HIGH,
            observables=[(HOST, "ws-33", ON), (USER, "k.lee", ACTOR)],
        )
        assert triggered(item, scored(item)) == {ISOLATE}
        assert triggered(item, None) == {ISOLATE}

    def test_a_high_detection_from_an_edr_isolates_without_the_words(self) -> None:
        for source in ["sentinelone", "Defender-EU", "edr-falcon"]:
            item = alert(
                f"edr-{source}",
                source=source,
                title="Suspicious PowerShell command line",
                severity=Severity.HIGH,
                observables=[(HOST, "ws-34", ON)],
            )
            assert triggered(item, scored(item)) == {ISOLATE}, source
        other = alert(
            "not-edr",
            source="splunk",
            title="Suspicious PowerShell command line",
            severity=Severity.HIGH,
            observables=[(HOST, "ws-34", ON)],
        )
        assert triggered(other, scored(other)) == set()

    def test_a_c2_beacon_from_a_host_isolates_it_and_blocks_no_destination(self) -> None:
        item = alert(
            "beacon",
            source="suricata",
            title="C2 beacon to 45.66.77.88",
            severity=Severity.HIGH,
            observables=[(HOST, "ws-40", SOURCE), (IP, "45.66.77.88", DESTINATION)],
        )
        assert triggered(item, scored(item, rated("45.66.77.88", Verdict.MALICIOUS))) == {ISOLATE}

    @pytest.mark.parametrize(
        "title",
        [
            "Ransomware behaviour detected",
            "Host-based anomaly detection event (rootcheck).",
            "Trojaned version of file detected.",
            "Cobalt Strike beacon",
            "Command and Control traffic",
            "Mimikatz execution",
            "Web shell written to disk",
        ],
    )
    def test_compromise_rules_isolate_the_host(self, title: str) -> None:
        item = alert(
            f"words-{title}",
            source="wazuh",
            title=title,
            severity=Severity.HIGH,
            observables=[(HOST, "app-05", ON)],
        )
        assert triggered(item, scored(item)) == {ISOLATE}

    @pytest.mark.parametrize(
        ("file", "source"), [("elastic.json", "elastic"), ("generic.json", "generic")]
    )
    def test_credential_theft_in_sample_payloads_isolates_the_host(
        self, file: str, source: str
    ) -> None:
        item = parsed(source, file)
        assert ISOLATE in triggered(item, scored(item))
        assert ISOLATE in triggered(item, None)

    def test_an_acting_host_with_a_bad_triage_is_isolated(self) -> None:
        item = alert(
            "acting-host",
            title="Unusual outbound SMB",
            severity=Severity.MEDIUM,
            observables=[(HOST, "ws-50", ACTOR), (IP, "10.2.2.2", SOURCE)],
        )
        assert triggered(item, scored(item)) == set()
        condemned = scored(item, rated("ws-50", Verdict.MALICIOUS, HOST))
        assert condemned.verdict is Verdict.MALICIOUS
        assert triggered(item, condemned) == {ISOLATE}

    async def test_a_public_attacker_with_a_malicious_verdict_is_blocked(self) -> None:
        item = alert(
            "listed",
            title="Inbound connection from a listed address",
            severity=Severity.MEDIUM,
            observables=[(IP, "45.20.30.40", SOURCE), (HOST, "web-01", TARGET)],
        )
        assert await matched(item, scored(item)) == set()
        assert await matched(item, scored(item, rated("45.20.30.40", Verdict.SUSPICIOUS))) == set()
        condemned = scored(item, rated("45.20.30.40", Verdict.MALICIOUS))
        assert await matched(item, condemned) == {BLOCK}

    def test_a_suspicious_public_source_is_blocked_from_the_documented_score(self) -> None:
        item = alert(
            "corroborated",
            title="Inbound connection",
            severity=Severity.HIGH,
            observables=[(IP, "45.2.3.5", SOURCE)],
        )
        found = scored(item, rated("45.2.3.5", Verdict.SUSPICIOUS))
        assert (found.verdict, found.score) == (Verdict.SUSPICIOUS, BAD_SCORE)
        assert triggered(item, found) == {BLOCK}

    @pytest.mark.parametrize(
        ("title", "source"),
        [
            ("SSH brute force", "45.3.3.3"),
            ("UnauthorizedAccess:EC2/RDPBruteForce", "45.3.3.4"),
            ("Exploit attempt CVE-2021-44228", "45.3.3.5"),
            ("SQL injection in login form", "45.3.3.6"),
            ("Port scan from the internet", "2a01:4f8::1"),
            ("Beacon to a known C2 address", "45.3.3.7"),
        ],
    )
    def test_an_attack_from_a_public_source_is_blocked(self, title: str, source: str) -> None:
        item = alert(
            f"attack-{title}",
            title=title,
            severity=Severity.MEDIUM,
            observables=[(IP, source, SOURCE)],
        )
        assert BLOCK in triggered(item, scored(item))

    @pytest.mark.parametrize(
        "title",
        [
            "Impossible travel sign-in",
            "Atypical travel",
            "MFA fatigue: 14 pushes in 5 minutes",
            "Credential stuffing succeeded for j.doe",
            "Successful sign-in after repeated failures",
            "Leaked credentials found for j.doe",
            "New inbox forwarding rule to an outside address",
        ],
    )
    def test_account_takeover_disables_the_user_at_any_severity(self, title: str) -> None:
        item = alert(
            f"takeover-{title}",
            title=title,
            severity=Severity.LOW,
            observables=[(USER, "j.doe", ACTOR)],
        )
        assert triggered(item, scored(item)) == {DISABLE}

    @pytest.mark.parametrize(
        ("file", "source"), [("graylog.json", "graylog"), ("sentinel.json", "sentinel")]
    )
    def test_takeover_in_sample_payloads_disables_the_user(self, file: str, source: str) -> None:
        item = parsed(source, file)
        assert DISABLE in triggered(item, scored(item))

    def test_an_acting_user_with_a_bad_triage_is_disabled(self) -> None:
        item = alert(
            "acting-user",
            title="Mass download from the file share",
            severity=Severity.MEDIUM,
            observables=[(USER, "k.lee", ACTOR), (IP, "10.3.3.3", SOURCE)],
        )
        assert triggered(item, scored(item)) == set()
        assert triggered(item, scored(item, rated("k.lee", Verdict.MALICIOUS, USER))) == {DISABLE}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_scenario_still_triggers_its_playbook(name: str) -> None:
    item = SCENARIOS[name].alert
    assert name in triggered(item, triaged(item))

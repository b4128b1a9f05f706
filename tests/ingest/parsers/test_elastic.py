"""The Elastic Security parser: summary bodies, single ECS alerts, 8.x, 7.x, flat keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from soar.alerts.models import Alert, Rule, Severity, SeverityInfo
from soar.ingest.parsers.base import ParseError

Parse = Callable[..., Any]
UUID = "8b3e0f4a-27c9-4d15-b6e2-9f1a0c3d5e7b"
RULE_ID = "c41e7b20-5d3a-4e8f-9a61-0b2c3d4e5f70"
SHA256 = "a9c3e5f70b2d4168e0f2a4c6b8d0e2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4f6"


def test_sample(sample: Callable[[str], Any], parse: Parse, triples: Parse) -> None:
    document = sample("elastic.json")
    items = parse("elastic", document)
    assert len(items) == 1
    alert = items[0]
    assert isinstance(alert, Alert)
    assert alert.title == "Credential Dumping via LSASS Access"
    assert alert.rule == Rule(name="Credential Dumping via LSASS Access", id=RULE_ID)
    assert alert.severity == SeverityInfo(level=Severity.CRITICAL, original="critical")
    assert alert.time == datetime(2026, 3, 14, 11, 42, 17, 350000, tzinfo=UTC)
    assert alert.dedup_key == f"elastic:{UUID}"
    assert alert.link == document["results_link"]
    assert triples(alert) == [
        ("ip", "203.0.113.88", "destination"),
        ("hostname", "eng-ws-12", "host"),
        ("ip", "192.0.2.19", "host"),
        ("user", "r.okafor", "actor"),
        ("hash", SHA256, "related"),
    ]
    assert alert.raw["kibana"]["alert"]["uuid"] == UUID
    assert alert.raw["_summary"]["rule"]["rule_id"] == RULE_ID
    assert parse("elastic", sample("elastic.json"))[0].id == alert.id


def test_summary_with_several_alerts(parse: Parse, triples: Parse) -> None:
    document = {
        "rule": {"rule_id": "r-1", "name": "Rule from summary", "severity": "high"},
        "results_link": "https://kibana.example/alerts",
        "count": 3,
        "context": {
            "alerts": [
                {"kibana.alert.uuid": "u-1", "source.ip": "203.0.113.1"},
                {
                    "kibana.alert.uuid": "u-2",
                    "kibana.alert.rule.name": "Own rule",
                    "kibana.alert.severity": "low",
                    "kibana.alert.url": "https://kibana.example/alerts/u-2",
                },
                "not an alert",
            ]
        },
    }
    first, second, third = parse("elastic", document)
    assert isinstance(first, Alert)
    assert isinstance(second, Alert)
    assert first.title == "Rule from summary"
    assert first.rule == Rule(name="Rule from summary", id="r-1")
    assert first.severity.level is Severity.HIGH
    assert first.link == "https://kibana.example/alerts"
    assert triples(first) == [("ip", "203.0.113.1", "source")]
    assert second.title == "Own rule"
    assert second.severity == SeverityInfo(level=Severity.LOW, original="low")
    assert second.link == "https://kibana.example/alerts/u-2"
    assert {first.dedup_key, second.dedup_key} == {"elastic:u-1", "elastic:u-2"}
    assert isinstance(third, ParseError)
    assert third.field == "alerts[2]"


def test_single_document_dotted_flat(parse_one: Parse, triples: Parse) -> None:
    alert = parse_one(
        "elastic",
        {
            "@timestamp": "2026-11-22T09:00:00Z",
            "kibana.alert.uuid": "flat-1",
            "kibana.alert.rule.name": "Flat rule",
            "kibana.alert.rule.rule_id": "fr-1",
            "kibana.alert.risk_score": 50,
            "kibana.alert.reason": "process event on web-9 created high alert Flat rule.",
            "source.ip": "198.51.100.7",
            "host": {"name": "web-9"},
            "process.hash.sha256": SHA256,
            "url.full": "https://evil.example/x",
            "dns.question.name": "c2.evil.example",
        },
    )
    assert alert.title == "Flat rule"
    assert alert.rule == Rule(name="Flat rule", id="fr-1")
    assert alert.severity == SeverityInfo(level=Severity.HIGH, original="50")
    assert alert.dedup_key == "elastic:flat-1"
    assert alert.description == "process event on web-9 created high alert Flat rule."
    assert triples(alert) == [
        ("ip", "198.51.100.7", "source"),
        ("hostname", "web-9", "host"),
        ("hash", SHA256, "related"),
        ("url", "https://evil.example/x", "related"),
        ("domain", "evil.example", "related"),
        ("domain", "c2.evil.example", "related"),
    ]


def test_mixed_nesting(parse_one: Parse) -> None:
    alert = parse_one(
        "elastic",
        {
            "kibana.alert": {"rule.name": "Mixed", "uuid": "m-1"},
            "kibana": {"alert.severity": "medium"},
        },
    )
    assert alert.title == "Mixed"
    assert alert.dedup_key == "elastic:m-1"
    assert alert.severity == SeverityInfo(level=Severity.MEDIUM, original="medium")


def test_7x_signal_as_search_hit(parse_one: Parse, triples: Parse) -> None:
    alert = parse_one(
        "elastic",
        {
            "_id": "sig-doc-1",
            "_source": {
                "@timestamp": "2021-05-01T10:00:00.000Z",
                "signal": {
                    "rule": {"name": "Legacy rule", "rule_id": "old-1", "severity": "critical"},
                    "original_event": {"id": "evt-1"},
                },
                "destination": {"ip": "10.1.1.1"},
            },
        },
    )
    assert alert.title == "Legacy rule"
    assert alert.rule == Rule(name="Legacy rule", id="old-1")
    assert alert.severity == SeverityInfo(level=Severity.CRITICAL, original="critical")
    assert alert.dedup_key == "elastic:sig-doc-1"
    assert alert.time == datetime(2021, 5, 1, 10, tzinfo=UTC)
    assert triples(alert) == [("ip", "10.1.1.1", "destination")]


def test_7x_flat_signal_uses_original_event_id(parse_one: Parse) -> None:
    alert = parse_one(
        "elastic",
        {
            "signal.rule.name": "Flat legacy",
            "signal.rule.id": "x-1",
            "signal.original_event.id": "e-9",
        },
    )
    assert alert.rule == Rule(name="Flat legacy", id="x-1")
    assert alert.dedup_key == "elastic:e-9"
    assert alert.severity == SeverityInfo(level=Severity.MEDIUM, original=None)


@pytest.mark.parametrize(
    ("score", "level"),
    [(10, Severity.LOW), (21, Severity.LOW), (47, Severity.MEDIUM), (73, Severity.HIGH),
     (74, Severity.CRITICAL)],
)  # fmt: skip
def test_risk_score_bands(parse_one: Parse, score: int, level: Severity) -> None:
    alert = parse_one("elastic", {"kibana.alert.rule.name": "r", "kibana.alert.risk_score": score})
    assert alert.severity == SeverityInfo(level=level, original=str(score))


def test_unmappable(parse: Parse) -> None:
    with pytest.raises(ParseError) as error:
        parse("elastic", {"host": {"name": "x"}})
    assert error.value.field == "kibana.alert.rule.name"
    with pytest.raises(ParseError) as not_array:
        parse("elastic", {"alerts": "nope"})
    assert not_array.value.field == "alerts"
    assert parse("elastic", {"rule": {"name": "r"}, "alerts": []}) == []

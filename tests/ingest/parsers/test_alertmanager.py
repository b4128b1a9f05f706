"""The Alertmanager webhook parser."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from soar.alerts.models import Alert, AlertStatus, Rule, Severity, SeverityInfo
from soar.ingest.parsers.base import ParseError

Parse = Callable[..., Any]


def test_sample(sample: Callable[[str], Any], parse: Parse, triples: Parse) -> None:
    first, second = parse("alertmanager", sample("alertmanager.json"))
    assert isinstance(first, Alert)
    assert isinstance(second, Alert)
    assert first.title == "Host sweep from 198.51.100.14"
    assert second.title == "Host sweep from 198.51.100.15"
    assert first.rule == Rule(name="HostSweepDetected")
    assert first.severity == SeverityInfo(level=Severity.MEDIUM, original="warning")
    assert first.status is AlertStatus.FIRING
    assert first.time == datetime(2026, 3, 14, 13, 5, tzinfo=UTC)
    assert second.time == datetime(2026, 3, 14, 13, 5, 7, tzinfo=UTC)
    assert first.dedup_key == "alertmanager:5e7a91c0d2b34f68:2026-03-14T13:05:00Z"
    assert second.dedup_key == "alertmanager:6f8ba2d1e3c45079:2026-03-14T13:05:07Z"
    assert first.description == "312 hosts probed in 120s"
    assert first.link == "http://prometheus.example.org:9090/graph?g0.expr=sweep"
    assert triples(first) == [
        ("ip", "198.51.100.14", "source"),
        ("hostname", "probe-2", "host"),
    ]
    assert triples(second)[0] == ("ip", "198.51.100.15", "source")
    assert first.raw["fingerprint"] == "5e7a91c0d2b34f68"
    assert first.raw["_group"]["receiver"] == "soar-intake"
    assert first.raw["_group"]["commonLabels"]["job"] == "netflow-exporter"
    assert [a.id for a in parse("alertmanager", sample("alertmanager.json"))] == [
        first.id,
        second.id,
    ]


def test_resolved_is_an_update_of_the_same_alert(
    sample: Callable[[str], Any], parse: Parse
) -> None:
    firing = sample("alertmanager.json")
    resolved = copy.deepcopy(firing)
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-03-14T13:20:00Z"
    before, after = parse("alertmanager", firing)[0], parse("alertmanager", resolved)[0]
    assert after.status is AlertStatus.RESOLVED
    assert after.id == before.id
    assert after.time == before.time


def test_labels_and_fallbacks(parse: Parse, triples: Parse) -> None:
    (alert,) = parse(
        "alertmanager",
        {
            "status": "resolved",
            "alerts": [
                {
                    "labels": {
                        "alertname": "SuspiciousLogin",
                        "severity": "page",
                        "user": "bob",
                        "dst_ip": "10.0.0.8",
                        "instance": "[2001:db8::7]:9100",
                        "domain": "evil.example",
                    },
                    "annotations": {"description": "seen hxxp://evil[.]example/login"},
                }
            ],
        },
    )
    assert isinstance(alert, Alert)
    assert alert.title == "SuspiciousLogin"
    assert alert.severity == SeverityInfo(level=Severity.HIGH, original="page")
    assert alert.status is AlertStatus.RESOLVED
    assert alert.dedup_key.startswith("content:")
    assert triples(alert) == [
        ("user", "bob", "actor"),
        ("ip", "10.0.0.8", "destination"),
        ("ip", "2001:db8::7", "host"),
        ("domain", "evil.example", "related"),
        ("url", "http://evil.example/login", "related"),
    ]


@pytest.mark.parametrize(
    ("label", "level"),
    [("critical", Severity.CRITICAL), ("error", Severity.HIGH), ("info", Severity.INFORMATIONAL),
     ("Warning", Severity.MEDIUM), ("sev9", Severity.MEDIUM)],
)  # fmt: skip
def test_severity_labels(parse: Parse, label: str, level: Severity) -> None:
    (alert,) = parse(
        "alertmanager", {"alerts": [{"labels": {"alertname": "a", "severity": label}}]}
    )
    assert alert.severity == SeverityInfo(level=level, original=label)


def test_bad_items_and_bodies(parse: Parse) -> None:
    items = parse("alertmanager", {"alerts": [{"labels": {}}, 7, {"labels": {"alertname": "ok"}}]})
    assert isinstance(items[0], ParseError)
    assert items[0].field == "alerts[0].labels.alertname"
    assert isinstance(items[1], ParseError)
    assert items[1].field == "alerts[1]"
    assert isinstance(items[2], Alert)
    with pytest.raises(ParseError) as error:
        parse("alertmanager", {"status": "firing"})
    assert error.value.field == "alerts"

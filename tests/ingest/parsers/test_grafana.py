"""The Grafana alerting parser (Alertmanager shape plus Grafana's fields)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from soar.alerts.models import Alert, AlertStatus, Rule, Severity, SeverityInfo

Parse = Callable[..., Any]


def test_sample(sample: Callable[[str], Any], parse: Parse, triples: Parse) -> None:
    (alert,) = parse("grafana", sample("grafana.json"))
    assert isinstance(alert, Alert)
    assert alert.title == "Unusual admin consent by k.tanaka@example.org"
    assert alert.rule == Rule(name="Unusual admin consent")
    assert alert.severity == SeverityInfo(level=Severity.HIGH, original="high")
    assert alert.status is AlertStatus.FIRING
    assert alert.time == datetime(2026, 3, 14, 6, 15, tzinfo=UTC)
    assert alert.dedup_key == "grafana:9d0e1f2a3b4c5d6e:2026-03-14T06:15:00Z"
    assert alert.link == "https://grafana.example.org/alerting/grafana/q7r/view"
    assert alert.description is None
    assert triples(alert) == [
        ("email", "k.tanaka@example.org", "actor"),
        ("ip", "198.51.100.61", "source"),
    ]
    assert alert.raw["_group"]["orgId"] == 3
    assert alert.raw["_group"]["title"] == "[FIRING:1] Unusual admin consent"
    assert alert.raw["values"] == {"B": 5}
    assert parse("grafana", sample("grafana.json"))[0].id == alert.id


def test_panel_and_dashboard_links(parse: Parse) -> None:
    alert = {
        "status": "resolved",
        "labels": {"alertname": "CPU"},
        "generatorURL": "",
        "panelURL": "https://grafana.example/d/x?viewPanel=2",
        "dashboardURL": "https://grafana.example/d/x",
        "fingerprint": "f1",
        "startsAt": "2026-11-22T08:00:00Z",
    }
    (parsed,) = parse("grafana", {"alerts": [alert]})
    assert isinstance(parsed, Alert)
    assert parsed.link == "https://grafana.example/d/x?viewPanel=2"
    assert parsed.description == "dashboardURL: https://grafana.example/d/x"
    assert parsed.status is AlertStatus.RESOLVED
    (no_panel,) = parse("grafana", {"alerts": [{**alert, "generatorURL": "https://g/rule"}]})
    assert no_panel.link == "https://g/rule"
    assert no_panel.description == (
        "panelURL: https://grafana.example/d/x?viewPanel=2\n"
        "dashboardURL: https://grafana.example/d/x"
    )

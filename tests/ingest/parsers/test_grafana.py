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
    assert alert.title == "Impossible travel for a.smith@example.com"
    assert alert.rule == Rule(name="Impossible travel")
    assert alert.severity == SeverityInfo(level=Severity.HIGH, original="high")
    assert alert.status is AlertStatus.FIRING
    assert alert.time == datetime(2026, 11, 22, 8, tzinfo=UTC)
    assert alert.dedup_key == "grafana:c0ffee0011223344:2026-11-22T08:00:00Z"
    assert alert.link == "https://grafana.example.com/alerting/grafana/abc/view"
    assert alert.description is None
    assert triples(alert) == [
        ("email", "a.smith@example.com", "actor"),
        ("ip", "192.0.2.200", "source"),
    ]
    assert alert.raw["_group"]["orgId"] == 1
    assert alert.raw["_group"]["title"] == "[FIRING:1] Impossible travel"
    assert alert.raw["values"] == {"A": 2}
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

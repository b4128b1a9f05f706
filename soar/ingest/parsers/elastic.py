"""Elastic Security (Kibana webhook connector): summary bodies and single ECS alerts.

Shapes accepted:
- the recommended summary body `{rule{rule_id, name, severity, risk_score},
  results_link, count, alerts: [ECS alert, ...]}` (or `context.alerts`): one alert per
  element, the body's `rule` and `results_link` filling gaps in each element;
- a single ECS alert document, optionally as a search hit (`{_id, _source}`);
- 8.x `kibana.alert.*` and 7.x `signal.*` fields, nested, dotted-flat or mixed.

The alert time is the alert document's `@timestamp` (when the rule fired). Without a
severity name, the risk score is mapped with Kibana's own bands (<22 low, <48 medium,
<74 high, else critical).
"""

from __future__ import annotations

from typing import Any

from soar.alerts.models import AlertStatus, ObservableRole, Rule, Severity, SeverityInfo, make_alert
from soar.alerts.observables import (
    collect_observables,
    domain_observable,
    email_or_user,
    hash_observable,
    host_observable,
    ip_observable,
    text_observables,
    url_observables,
)
from soar.ingest.parsers.base import Item, ParseContext, ParseError
from soar.ingest.parsers.fields import (
    DESCRIPTION_MAX,
    as_dict,
    batch,
    first,
    first_text,
    first_time,
    get,
    json_safe,
    native_key,
    require_dict,
    scalars,
    severity_by_thresholds,
    severity_from_name,
    text,
    title_text,
)

RISK_SCORE_BANDS = [(22.0, Severity.LOW), (48.0, Severity.MEDIUM), (74.0, Severity.HIGH)]

RULE_NAME = ("kibana.alert.rule.name", "signal.rule.name")
RULE_ID = ("kibana.alert.rule.rule_id", "signal.rule.rule_id", "signal.rule.id")
SEVERITY = ("kibana.alert.severity", "kibana.alert.rule.severity", "signal.rule.severity")
RISK_SCORE = ("kibana.alert.risk_score", "kibana.alert.rule.risk_score", "signal.rule.risk_score")
UUID = ("kibana.alert.uuid", "_id", "signal.original_event.id")
DESCRIPTION = (
    "kibana.alert.reason",
    "signal.reason",
    "kibana.alert.rule.description",
    "signal.rule.description",
    "message",
)
TIME = ("@timestamp", "kibana.alert.original_time", "signal.original_time")
HASHES = ("file.hash.sha256", "file.hash.sha1", "file.hash.md5", "process.hash.sha256")


def parse(document: Any, context: ParseContext) -> list[Item]:
    """A summary body yields one item per alert; a lone ECS document yields one alert."""
    if isinstance(document, list):
        return batch(document, lambda doc: _alert(doc, {}, context), "")
    document = require_dict(document)
    alerts = first(document, "alerts", "context.alerts")
    if isinstance(alerts, list):
        summary = _summary(document)
        return batch(alerts, lambda doc: _alert(doc, summary, context), "alerts")
    if alerts is not None:
        raise ParseError("expected a JSON array", "alerts")
    return [_alert(document, {}, context)]


def _summary(document: dict[str, Any]) -> dict[str, Any]:
    """The summary body's own fields, used as fallbacks and kept with each element."""
    return {
        "rule": as_dict(document.get("rule")),
        "results_link": document.get("results_link"),
        "count": document.get("count"),
    }


def _unwrap(document: dict[str, Any]) -> dict[str, Any]:
    """A search hit `{_id, _source}` becomes its source with `_id` alongside."""
    source = document.get("_source")
    if isinstance(source, dict):
        return {**source, "_id": document.get("_id")}
    return document


def _severity(doc: dict[str, Any], rule: dict[str, Any]) -> SeverityInfo:
    """The severity name, else the risk score, from the alert and then the summary rule."""
    name = first(doc, *SEVERITY) or rule.get("severity")
    if text(name):
        return severity_from_name(name)
    score = first(doc, *RISK_SCORE)
    score = rule.get("risk_score") if score is None else score
    by_score = severity_by_thresholds(score, RISK_SCORE_BANDS, Severity.CRITICAL)
    return by_score or severity_from_name(None)


def _alert(element: dict[str, Any], summary: dict[str, Any], context: ParseContext) -> Item:
    """One ECS alert document; `summary` holds the summary body's fallbacks, if any."""
    doc = _unwrap(element)
    rule = as_dict(summary.get("rule"))
    description = first_text(doc, *DESCRIPTION, limit=DESCRIPTION_MAX)
    rule_name = first_text(doc, *RULE_NAME) or text(rule.get("name"))
    title = title_text(rule_name) or title_text(description)
    if not title:
        raise ParseError("no rule name", RULE_NAME[0])
    status = text(get(doc, "kibana.alert.status")) or ""

    def each(path: str) -> list[Any]:
        return scalars(get(doc, path))

    return make_alert(
        source=context.source,
        native_key=native_key(first(doc, *UUID)),
        title=title,
        description=description,
        rule=Rule(name=rule_name, id=first_text(doc, *RULE_ID) or text(rule.get("rule_id"))),
        severity=_severity(doc, rule),
        status=AlertStatus.RESOLVED if status.lower() == "recovered" else AlertStatus.FIRING,
        time=first_time(doc, *TIME),
        link=first_text(doc, "kibana.alert.url") or text(summary.get("results_link")),
        observables=collect_observables(
            [ip_observable(v, ObservableRole.SOURCE) for v in each("source.ip")],
            [ip_observable(v, ObservableRole.DESTINATION) for v in each("destination.ip")],
            [host_observable(v) for v in each("host.name")],
            [ip_observable(v, ObservableRole.HOST) for v in each("host.ip")],
            [email_or_user(v) for v in each("user.name")],
            [hash_observable(v) for path in HASHES for v in each(path)],
            [o for v in each("url.full") for o in url_observables(v)],
            [domain_observable(v) for v in each("dns.question.name")],
            text_observables(description),
        ),
        raw=json_safe({**element, "_summary": summary} if summary else element),
    )

"""Prometheus Alertmanager webhook (v4): a group of alerts, one item each.

Grafana alerting posts the same shape with a few extra fields, so :func:`parse_group`
serves both (see :mod:`soar.ingest.parsers.grafana`).

Per alert: title from `annotations.summary`, else `labels.alertname` (also the rule);
severity from `labels.severity`; `status` firing|resolved (a resolved alert is an
update of the firing one: same dedup key, `fingerprint:startsAt`); observables from
labels by name (`src_ip`, `instance`, `user`, ...) and from the summary/description;
a `tlp` label or annotation is the alert's TLP marking.
Group-level context (receiver, group labels, ...) is kept in `raw["_group"]`.
"""

from __future__ import annotations

from typing import Any

from soar.alerts.models import AlertStatus, Rule, make_alert
from soar.alerts.observables import collect_observables, keyed_observables, text_observables
from soar.ingest.parsers.base import Item, ParseContext, ParseError
from soar.ingest.parsers.fields import (
    DESCRIPTION_MAX,
    KEY_MAX,
    as_dict,
    batch,
    description_text,
    json_safe,
    marking,
    native_key,
    parse_time,
    require_dict,
    severity_from_name,
    text,
    title_text,
)

GROUP_FIELDS = ("receiver", "status", "groupKey", "groupLabels", "commonLabels", "externalURL")


def parse(document: Any, context: ParseContext) -> list[Item]:
    """One item per element of `alerts`."""
    return parse_group(document, context, link_fields=("generatorURL",), group_fields=())


def parse_group(
    document: Any,
    context: ParseContext,
    *,
    link_fields: tuple[str, ...],
    group_fields: tuple[str, ...],
) -> list[Item]:
    """Parse an Alertmanager-shaped group.

    `link_fields` are per-alert URL fields in order of preference: the first non-empty
    one is the alert's link, the others are listed in the description.
    `group_fields` are extra top-level fields kept in `raw["_group"]`.
    """
    document = require_dict(document)
    alerts = document.get("alerts")
    if not isinstance(alerts, list):
        raise ParseError("expected a JSON array of alerts", "alerts")
    group = {key: document[key] for key in GROUP_FIELDS + group_fields if key in document}
    group_status = text(document.get("status"), KEY_MAX)
    return batch(
        alerts,
        lambda alert: _alert(alert, group, group_status, link_fields, context),
        "alerts",
    )


def _alert(
    alert: dict[str, Any],
    group: dict[str, Any],
    group_status: str | None,
    link_fields: tuple[str, ...],
    context: ParseContext,
) -> Item:
    """One element of `alerts`, with the group's context kept in its raw JSON."""
    labels = as_dict(alert.get("labels"))
    annotations = as_dict(alert.get("annotations"))
    alertname = text(labels.get("alertname"))
    title = title_text(annotations.get("summary")) or title_text(alertname)
    if not title:
        raise ParseError("no summary annotation or alertname label", "labels.alertname")
    links = [(key, value) for key in link_fields if (value := text(alert.get(key)))]
    extra_links = [f"{key}: {value}" for key, value in links[1:]]
    description = text(annotations.get("description"), DESCRIPTION_MAX)
    status = text(alert.get("status"), KEY_MAX) or group_status or ""
    starts_at = alert.get("startsAt")
    return make_alert(
        source=context.source,
        native_key=native_key(alert.get("fingerprint"), starts_at),
        title=title,
        description=description_text(description, *extra_links),
        rule=Rule(name=alertname),
        severity=severity_from_name(labels.get("severity")),
        status=AlertStatus.RESOLVED if status.lower() == "resolved" else AlertStatus.FIRING,
        time=parse_time(starts_at),
        link=links[0][1] if links else None,
        marking=marking(labels.get("tlp"), annotations.get("tlp")),
        observables=collect_observables(
            keyed_observables(labels),
            text_observables(annotations.get("summary"), description),
        ),
        raw=json_safe({**alert, "_group": group}),
    )

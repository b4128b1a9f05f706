"""Suricata EVE JSON: one event per document (an NDJSON line), or a JSON array of them.

Only `event_type: "alert"` events become alerts; any other event type (flow, dns,
http, stats, ...) is :data:`SKIPPED`. The dedup key is `flow_id:signature_id:timestamp`.
Severity: 1 high, 2 medium, 3 low, 4 and above informational. The rule id is
`gid:signature_id:rev` (gid defaults to Suricata's 1, a missing rev shows as 0).

A relative `http.url` is made absolute with `http.hostname` for the URL observable, and
is also scanned as text: exploit strings carry indicators (`${jndi:ldap://host/a}`).
"""

from __future__ import annotations

from typing import Any

from soar.alerts.models import Observable, ObservableRole, Rule, Severity, SeverityInfo, make_alert
from soar.alerts.observables import (
    collect_observables,
    domain_observable,
    ip_observable,
    text_observables,
    url_observables,
)
from soar.ingest.parsers.base import SKIPPED, Item, ParseContext, ParseError
from soar.ingest.parsers.fields import (
    KEY_MAX,
    batch,
    get,
    json_safe,
    native_key,
    number,
    parse_time,
    require_dict,
    text,
    title_text,
)

Destination = ObservableRole.DESTINATION
SEVERITIES = {1: Severity.HIGH, 2: Severity.MEDIUM, 3: Severity.LOW}


def parse(document: Any, context: ParseContext) -> list[Item]:
    """One item per EVE event: an alert, or SKIPPED for other event types."""
    if isinstance(document, list):
        return batch(document, lambda event: _event(event, context), "")
    return [_event(require_dict(document), context)]


def _event(event: dict[str, Any], context: ParseContext) -> Item:
    """One EVE event: an Alert for `alert` events, SKIPPED for every other type."""
    event_type = event.get("event_type")
    if not isinstance(event_type, str):
        raise ParseError("missing event type", "event_type")
    if event_type != "alert":
        return SKIPPED
    alert = event.get("alert")
    if not isinstance(alert, dict):
        raise ParseError("expected a JSON object", "alert")
    title = title_text(alert.get("signature"))
    if not title:
        raise ParseError("missing signature", "alert.signature")
    signature_id = text(alert.get("signature_id"), KEY_MAX)
    gid = text(alert.get("gid"), KEY_MAX) or "1"
    rev = text(alert.get("rev"), KEY_MAX) or "0"
    return make_alert(
        source=context.source,
        native_key=native_key(event.get("flow_id"), signature_id, event.get("timestamp")),
        title=title,
        description=text(alert.get("category")),
        rule=Rule(
            name=text(alert.get("signature")),
            id=f"{gid}:{signature_id}:{rev}" if signature_id else None,
        ),
        severity=_severity(alert.get("severity")),
        time=parse_time(event.get("timestamp")),
        observables=collect_observables(
            ip_observable(event.get("src_ip"), ObservableRole.SOURCE),
            ip_observable(event.get("dest_ip"), Destination),
            _http_observables(event),
            domain_observable(get(event, "tls.sni"), Destination),
            domain_observable(get(event, "dns.rrname")),
        ),
        raw=json_safe(event),
    )


def _severity(value: Any) -> SeverityInfo:
    """Suricata's 1 (most severe) to 255 scale: 1 high, 2 medium, 3 low, then informational."""
    score = number(value)
    if score is None:
        return SeverityInfo(level=Severity.MEDIUM, original=text(value, KEY_MAX))
    level = SEVERITIES.get(int(score), Severity.HIGH if score < 1 else Severity.INFORMATIONAL)
    return SeverityInfo(level=level, original=text(value, KEY_MAX))


def _http_observables(event: dict[str, Any]) -> list[Observable]:
    """The HTTP host, the request URL made absolute, and indicators inside the URL."""
    hostname = text(get(event, "http.hostname"), KEY_MAX)
    host = ip_observable(hostname, Destination) or domain_observable(hostname, Destination)
    url = text(get(event, "http.url"))
    absolute = url
    if host and url and url.startswith("/"):
        authority = f"[{host.value}]" if ":" in host.value else host.value
        absolute = f"http://{authority}{url}"
    return collect_observables(host, url_observables(absolute), text_observables(url))

"""Microsoft Sentinel incidents (posted by a Logic App) and Graph security `alerts_v2`.

Shapes accepted:
- the incident trigger body `{object: {name, properties: {incidentNumber, title,
  severity, status, createdTimeUtc, firstActivityTimeUtc, incidentUrl,
  relatedAnalyticRuleIds[], relatedEntities[]}}}`;
- the same without the `object` wrapper (`{name, properties}`), or the properties alone;
- a Graph `alerts_v2` alert (`evidence[]` discriminated by `@odata.type`), or a Graph
  list response `{value: [alert, ...]}` (one item per alert).

Entities carry no role, so they are `related`, except hosts (`host`) and Graph evidence
whose `roles` say `attacker`/`source` or `destination`.
"""

from __future__ import annotations

from typing import Any

from soar.alerts.models import AlertStatus, Observable, ObservableRole, Rule, make_alert
from soar.alerts.observables import (
    MAX_OBSERVABLES,
    collect_observables,
    domain_observable,
    email_observable,
    hash_observable,
    host_observable,
    ip_observable,
    text_observables,
    url_observables,
    user_observable,
)
from soar.ingest.parsers.base import Item, ParseContext, ParseError
from soar.ingest.parsers.fields import (
    DESCRIPTION_MAX,
    KEY_MAX,
    as_dict,
    as_list,
    batch,
    first,
    first_text,
    first_time,
    get,
    json_safe,
    native_key,
    require_dict,
    scalars,
    severity_from_name,
    text,
    title_text,
)

Related = ObservableRole.RELATED
GRAPH_MARKERS = ("evidence", "alertWebUrl", "createdDateTime", "detectorId", "providerAlertId")
HASH_KEYS = ("sha256", "sha1", "md5")


def parse(document: Any, context: ParseContext) -> list[Item]:
    """A Sentinel incident or a Graph alert yields one alert; a Graph list, one per alert."""
    document = require_dict(document)
    if isinstance(document.get("object"), dict):
        incident = document["object"]
        return [_incident(incident, as_dict(incident.get("properties")), "object.", context)]
    if isinstance(document.get("value"), list):
        return batch(document["value"], lambda alert: _graph_alert(alert, context), "value")
    if any(marker in document for marker in GRAPH_MARKERS):
        return [_graph_alert(document, context)]
    if isinstance(document.get("properties"), dict):
        return [_incident(document, document["properties"], "", context)]
    return [_incident(document, document, "", context)]


def _status(value: Any, resolved: str) -> AlertStatus:
    """RESOLVED when the status word is `resolved` (case-insensitive), else FIRING."""
    status = text(value, KEY_MAX) or ""
    return AlertStatus.RESOLVED if status.lower() == resolved else AlertStatus.FIRING


def _incident(
    incident: dict[str, Any], props: dict[str, Any], prefix: str, context: ParseContext
) -> Item:
    """`incident` holds the `name`; `props` the incident properties (maybe the same dict)."""
    title = title_text(props.get("title"))
    if not title:
        where = "title" if props is incident else "properties.title"
        raise ParseError("missing incident title", prefix + where)
    description = text(props.get("description"), DESCRIPTION_MAX)
    rule_ids = scalars(props.get("relatedAnalyticRuleIds"))
    entities = as_list(props.get("relatedEntities"))[:MAX_OBSERVABLES]
    return make_alert(
        source=context.source,
        native_key=native_key(first(incident, "name", "id")),
        title=title,
        description=description,
        rule=Rule(id=text(rule_ids[0]) if rule_ids else None),
        severity=severity_from_name(props.get("severity")),
        status=_status(props.get("status"), "closed"),
        time=first_time(props, "createdTimeUtc", "firstActivityTimeUtc"),
        link=text(props.get("incidentUrl")),
        observables=collect_observables(
            [o for entity in entities for o in _entity(as_dict(entity))],
            text_observables(title, description),
        ),
        raw=json_safe(incident),
    )


def _prop(props: dict[str, Any], name: str) -> Any:
    """`props[name]`, else a case-insensitive match (`Address` for `address`)."""
    if name in props:
        return props[name]
    lowered = name.lower()
    return next((v for k, v in list(props.items())[:100] if str(k).lower() == lowered), None)


def _entity(entity: dict[str, Any]) -> list[Observable | None]:
    """Observables of one `relatedEntities` item, by `kind`."""
    props = entity.get("properties")
    props = props if isinstance(props, dict) else entity
    kind = (text(_prop(entity, "kind") or _prop(entity, "type"), KEY_MAX) or "").lower()
    if kind == "ip":
        return [ip_observable(_prop(props, "address"), Related)]
    if kind == "host":
        name = text(_prop(props, "hostName")) or text(_prop(props, "netBiosName"))
        domain = text(_prop(props, "dnsDomain"))
        if name and domain and "." not in name:
            name = f"{name}.{domain}"
        return [host_observable(name)]
    if kind == "account":
        name = text(_prop(props, "accountName"))
        suffix = text(_prop(props, "upnSuffix"))
        account = f"{name}@{suffix}" if name and suffix else name
        return [user_observable(account, Related), email_observable(account, Related)]
    if kind == "filehash":
        return [hash_observable(_prop(props, "hashValue"), Related)]
    if kind == "url":
        return list(url_observables(_prop(props, "url"), Related))
    if kind in {"dnsresolution", "dns", "domain"}:
        return [domain_observable(_prop(props, "domainName") or _prop(props, "domain"), Related)]
    if kind == "mailbox":
        return [email_observable(_prop(props, "mailboxPrimaryAddress"), Related)]
    return []


def _graph_alert(alert: dict[str, Any], context: ParseContext) -> Item:
    """One Graph security `alerts_v2` alert."""
    title = title_text(alert.get("title"))
    if not title:
        raise ParseError("missing alert title", "title")
    description = text(alert.get("description"), DESCRIPTION_MAX)
    evidence = as_list(alert.get("evidence"))[:MAX_OBSERVABLES]
    return make_alert(
        source=context.source,
        native_key=native_key(alert.get("id")),
        title=title,
        description=description,
        rule=Rule(id=first_text(alert, "detectorId")),
        severity=severity_from_name(alert.get("severity")),
        status=_status(alert.get("status"), "resolved"),
        time=first_time(alert, "createdDateTime", "firstActivityDateTime"),
        link=first_text(alert, "alertWebUrl", "incidentWebUrl"),
        observables=collect_observables(
            [o for item in evidence for o in _evidence(as_dict(item))],
            text_observables(title, description),
        ),
        raw=json_safe(alert),
    )


def _evidence_role(item: dict[str, Any], default: ObservableRole) -> ObservableRole:
    roles = {str(role).lower() for role in scalars(item.get("roles"))}
    if roles & {"attacker", "source"}:
        return ObservableRole.SOURCE
    if "destination" in roles:
        return ObservableRole.DESTINATION
    return default


def _evidence(item: dict[str, Any]) -> list[Observable | None]:
    """Observables of one Graph evidence item, by the suffix of its `@odata.type`."""
    kind = (text(item.get("@odata.type"), KEY_MAX) or "").rsplit(".", 1)[-1].lower()
    role = _evidence_role(item, Related)
    if kind == "ipevidence":
        return [ip_observable(item.get("ipAddress"), role)]
    if kind == "deviceevidence":
        host_role = _evidence_role(item, ObservableRole.HOST)
        return [host_observable(item.get("deviceDnsName"), host_role)] + [
            ip_observable(address, host_role) for address in scalars(item.get("ipInterfaces"))
        ]
    if kind == "userevidence":
        upn = get(item, "userAccount.userPrincipalName")
        name = upn or get(item, "userAccount.accountName")
        return [user_observable(name, role), email_observable(upn, role)]
    if kind == "urlevidence":
        return list(url_observables(item.get("url"), role))
    if kind == "fileevidence":
        return [hash_observable(get(item, f"fileDetails.{key}"), role) for key in HASH_KEYS]
    if kind == "processevidence":
        return [hash_observable(get(item, f"imageFile.{key}"), role) for key in HASH_KEYS]
    if kind == "mailboxevidence":
        return [email_observable(item.get("primaryAddress"), role)]
    return []

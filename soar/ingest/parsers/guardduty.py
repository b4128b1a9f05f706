"""AWS GuardDuty findings, in the EventBridge envelope (`detail` = finding) or bare.

GuardDuty re-sends an updated finding under the same `id` (higher `service.count`),
so the finding id is the dedup key and an update lands on the same alert. Severity is
a float: <4 low, <7 medium, <9 high, else critical. The rule is the finding `type`
(`UnauthorizedAccess:EC2/SSHBruteForce`). The link is the GuardDuty console page of
the finding, built only from a well-formed region and id.

The remote IP of a network connection is the source when the connection is inbound
and the destination when outbound (an instance calling out to a C2); the remote IP of
an API call or port probe is the source. The instance and its private IPs are the host.
"""

from __future__ import annotations

import re
from typing import Any

from soar.alerts.models import Observable, ObservableRole, Rule, Severity, make_alert
from soar.alerts.observables import (
    collect_observables,
    domain_observable,
    email_or_user,
    host_observable,
    ip_observable,
    text_observables,
)
from soar.ingest.parsers.base import Item, ParseContext, ParseError
from soar.ingest.parsers.fields import (
    DESCRIPTION_MAX,
    as_dict,
    as_list,
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

SEVERITY_BANDS = [(4.0, Severity.LOW), (7.0, Severity.MEDIUM), (9.0, Severity.HIGH)]
REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
FINDING_ID = re.compile(r"[A-Za-z0-9]{1,128}")
REMOTE_IP = ("remoteIpDetails.ipAddressV4", "remoteIpDetails.ipAddressV6")
ACTION = "service.action."


def parse(document: Any, context: ParseContext) -> list[Item]:
    """One alert per finding, enveloped or bare."""
    document = require_dict(document)
    enveloped = "detail" in document
    finding = require_dict(document["detail"], "detail") if enveloped else document
    prefix = "detail." if enveloped else ""
    kind = text(finding.get("type"))
    title = title_text(finding.get("title")) or title_text(kind)
    if not title:
        raise ParseError("missing finding title and type", prefix + "title")
    description = text(finding.get("description"), DESCRIPTION_MAX)
    finding_id = text(finding.get("id"))
    region = text(finding.get("region")) or text(document.get("region"))
    severity = finding.get("severity")
    time = first_time(finding, "createdAt", "updatedAt") or first_time(document, "time")
    return [
        make_alert(
            source=context.source,
            native_key=native_key(finding_id),
            title=title,
            description=description,
            rule=Rule(name=kind),
            severity=severity_by_thresholds(severity, SEVERITY_BANDS, Severity.CRITICAL)
            or severity_from_name(severity),
            time=time,
            link=console_link(region, finding_id),
            observables=collect_observables(
                _action_observables(finding),
                _resource_observables(finding),
                text_observables(description),
            ),
            raw=json_safe(document),
        )
    ]


def console_link(region: str | None, finding_id: str | None) -> str | None:
    """The GuardDuty console URL of a finding, or None unless both parts are well formed."""
    if not region or not finding_id:
        return None
    if not REGION.fullmatch(region) or not FINDING_ID.fullmatch(finding_id):
        return None
    return (
        f"https://{region}.console.aws.amazon.com/guardduty/home?region={region}"
        f"#/findings?macros=current&fId={finding_id}"
    )


def _remote_ips(details: Any, role: ObservableRole) -> list[Observable | None]:
    """The IPv4 and IPv6 address of an action's `remoteIpDetails`."""
    return [ip_observable(get(details, path), role) for path in REMOTE_IP]


def _action_observables(finding: dict[str, Any]) -> list[Observable | None]:
    """Observables of `service.action`, whichever action types it holds."""
    connection = get(finding, ACTION + "networkConnectionAction")
    direction = text(get(connection, "connectionDirection")) or ""
    remote_role = (
        ObservableRole.DESTINATION if direction.upper() == "OUTBOUND" else ObservableRole.SOURCE
    )
    probes = as_list(get(finding, ACTION + "portProbeAction.portProbeDetails"))[:50]
    api_call = get(finding, ACTION + "awsApiCallAction")
    dns_domain = get(finding, ACTION + "dnsRequestAction.domain")
    return [
        *_remote_ips(connection, remote_role),
        ip_observable(get(connection, "localIpDetails.ipAddressV4"), ObservableRole.HOST),
        *_remote_ips(api_call, ObservableRole.SOURCE),
        domain_observable(get(api_call, "domainDetails.domain")),
        *[o for probe in probes for o in _remote_ips(probe, ObservableRole.SOURCE)],
        *[
            ip_observable(get(probe, "localIpDetails.ipAddressV4"), ObservableRole.HOST)
            for probe in probes
        ],
        domain_observable(dns_domain, ObservableRole.DESTINATION),
    ]


def _resource_observables(finding: dict[str, Any]) -> list[Observable | None]:
    """The affected instance (id and private IPs) and the IAM user of the access key."""
    resource = as_dict(finding.get("resource"))
    interfaces = as_list(get(resource, "instanceDetails.networkInterfaces"))[:50]
    return [
        host_observable(get(resource, "instanceDetails.instanceId")),
        *[
            ip_observable(address, ObservableRole.HOST)
            for interface in interfaces
            for address in scalars(get(interface, "privateIpAddress"))
        ],
        email_or_user(get(resource, "accessKeyDetails.userName")),
    ]

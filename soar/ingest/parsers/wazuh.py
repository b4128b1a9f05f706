"""Wazuh alerts from an integratord script: the raw alert or the Shuffle-wrapped one.

The shipped Shuffle script posts `{severity: 1|2|3, pretext, title, text, rule_id,
timestamp, id, all_fields: <alert>}`; many users post the alert itself. The wrapper's
fields only fill gaps in the alert's own. Severity follows `rule.level`: 0-6 low,
7-11 medium, 12-14 high, 15+ critical; without a level, the wrapper's 1|2|3.

Agent `000` is the manager itself; its name is still reported as the host, since the
manager's own logs (and agentless devices) alert under it.
"""

from __future__ import annotations

from typing import Any

from soar.alerts.models import ObservableRole, Rule, Severity, SeverityInfo, make_alert
from soar.alerts.observables import (
    collect_observables,
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
    KEY_MAX,
    first_text,
    first_time,
    get,
    json_safe,
    native_key,
    number,
    require_dict,
    scalars,
    severity_by_thresholds,
    text,
    title_text,
)

LEVEL_BANDS = [(7.0, Severity.LOW), (12.0, Severity.MEDIUM), (15.0, Severity.HIGH)]
WRAPPER_SEVERITY = {1: Severity.LOW, 2: Severity.MEDIUM, 3: Severity.HIGH}
SYSCHECK_HASHES = ("syscheck.sha256_after", "syscheck.sha1_after", "syscheck.md5_after")


def parse(document: Any, context: ParseContext) -> list[Item]:
    """One alert per call, raw or wrapped in the Shuffle envelope."""
    document = require_dict(document)
    wrapped = isinstance(document.get("all_fields"), dict)
    alert = document["all_fields"] if wrapped else document
    wrapper = document if wrapped else {}
    prefix = "all_fields." if wrapped else ""
    title = title_text(get(alert, "rule.description")) or title_text(wrapper.get("title"))
    if not title:
        raise ParseError("missing rule description", prefix + "rule.description")
    full_log = text(alert.get("full_log"), DESCRIPTION_MAX)

    def each(path: str) -> list[Any]:
        return scalars(get(alert, path))

    return [
        make_alert(
            source=context.source,
            native_key=native_key(alert.get("id") or wrapper.get("id")),
            title=title,
            description=full_log or text(wrapper.get("text"), DESCRIPTION_MAX),
            rule=Rule(
                name=text(get(alert, "rule.description")),
                id=first_text(alert, "rule.id") or text(wrapper.get("rule_id")),
            ),
            severity=_severity(alert, wrapper),
            time=first_time(alert, "timestamp") or first_time(wrapper, "timestamp"),
            observables=collect_observables(
                [host_observable(v, ObservableRole.SOURCE) for v in each("data.srcip")],
                [host_observable(v, ObservableRole.DESTINATION) for v in each("data.dstip")],
                [email_or_user(v) for v in each("data.srcuser")],
                [email_or_user(v, ObservableRole.TARGET) for v in each("data.dstuser")],
                [o for v in each("data.url") for o in url_observables(v)],
                [host_observable(v) for v in each("agent.name")],
                [ip_observable(v, ObservableRole.HOST) for v in each("agent.ip")],
                [hash_observable(v) for path in SYSCHECK_HASHES for v in each(path)],
                text_observables(full_log, get(alert, "rule.description")),
            ),
            raw=json_safe(document),
        )
    ]


def _severity(alert: dict[str, Any], wrapper: dict[str, Any]) -> SeverityInfo:
    """By `rule.level`, else by the Shuffle wrapper's 1|2|3, else medium."""
    by_level = severity_by_thresholds(get(alert, "rule.level"), LEVEL_BANDS, Severity.CRITICAL)
    if by_level:
        return by_level
    score = number(wrapper.get("severity"))
    level = WRAPPER_SEVERITY.get(int(score)) if score is not None else None
    if level:
        return SeverityInfo(level=level, original=text(wrapper.get("severity"), KEY_MAX))
    return SeverityInfo(level=Severity.MEDIUM, original=text(get(alert, "rule.level"), KEY_MAX))

"""The generic JSON source: well-known keys, optionally remapped per configured source.

For tools without a parser of their own. A body is one alert object or a JSON array of
them. Well-known keys: `id`, `title`, `severity`, `time`, `src_ip`, `dst_ip`, `host`,
`user`, `hash`, `url`, `domain`, `description`, `rule` (or `rule_name`, or an object
with `name`/`id`), `rule_id`, `link`, `status`, `tlp` (or `marking`, or a `tlp:*` entry
of `tags`: the alert's TLP marking; the most restricted one wins).
`ParseContext.field_map` maps any of these to a dotted path in the payload; a mapped
path is tried first, then the default.

`url` is an indicator (a URL observable); the link back to the sender's console is `link`.
A missing title falls back to the rule name, then the first line of the description.
A numeric severity is read as an OCSF `severity_id` (1 informational .. 5 critical).
"""

from __future__ import annotations

from typing import Any

from soar.alerts.models import (
    Alert,
    AlertStatus,
    ObservableRole,
    Rule,
    Severity,
    SeverityInfo,
    make_alert,
)
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
    KEY_MAX,
    batch,
    first,
    first_line,
    json_safe,
    marking,
    native_key,
    number,
    parse_time,
    require_dict,
    scalars,
    severity_from_name,
    text,
    title_text,
)

DEFAULT_PATHS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "title": ("title",),
    "severity": ("severity",),
    "time": ("time",),
    "src_ip": ("src_ip",),
    "dst_ip": ("dst_ip",),
    "host": ("host",),
    "user": ("user",),
    "hash": ("hash",),
    "url": ("url",),
    "domain": ("domain",),
    "description": ("description",),
    "rule": ("rule_name", "rule.name", "rule"),
    "rule_id": ("rule_id", "rule.id"),
    "link": ("link",),
    "status": ("status",),
    "tlp": ("tlp", "marking", "tags"),
}

OCSF_SEVERITY_IDS = {
    1: Severity.INFORMATIONAL,
    2: Severity.LOW,
    3: Severity.MEDIUM,
    4: Severity.HIGH,
    5: Severity.CRITICAL,
    6: Severity.CRITICAL,
}

RESOLVED_WORDS = frozenset({"resolved", "closed"})


def parse(document: Any, context: ParseContext) -> list[Item]:
    """One alert per object; a JSON array is a batch of objects."""
    if isinstance(document, list):
        return batch(document, lambda item: _alert(item, context), "")
    return [_alert(require_dict(document), context)]


def _paths(key: str, context: ParseContext) -> tuple[str, ...]:
    """Where to look for a model key: the configured path first, then the defaults."""
    mapped = context.field_map.get(key)
    return ((mapped,) if isinstance(mapped, str) and mapped else ()) + DEFAULT_PATHS[key]


def _value(item: dict[str, Any], key: str, context: ParseContext) -> Any:
    """The first value found for a model key."""
    return first(item, *_paths(key, context))


def _severity(value: Any) -> SeverityInfo:
    """A severity word, or a number read as an OCSF severity_id."""
    score = number(value)
    if score is None:
        return severity_from_name(value)
    level = OCSF_SEVERITY_IDS.get(int(score), Severity.MEDIUM)
    return SeverityInfo(level=level, original=text(value, KEY_MAX))


def _alert(item: dict[str, Any], context: ParseContext) -> Alert:
    """One alert object of the body."""

    def value(key: str) -> Any:
        return _value(item, key, context)

    description = text(value("description"), DESCRIPTION_MAX)
    rule = Rule(name=text(value("rule")), id=text(value("rule_id")))
    title = title_text(value("title")) or title_text(rule.name) or first_line(description)
    if not title:
        raise ParseError("no title, rule name or description", _paths("title", context)[0])
    status = text(value("status"), KEY_MAX) or ""
    return make_alert(
        source=context.source,
        native_key=native_key(value("id")),
        title=title,
        description=description,
        rule=rule,
        severity=_severity(value("severity")),
        status=AlertStatus.RESOLVED if status.lower() in RESOLVED_WORDS else AlertStatus.FIRING,
        time=parse_time(value("time")),
        link=text(value("link")),
        marking=marking(*(first(item, path) for path in _paths("tlp", context))),
        observables=collect_observables(
            [ip_observable(v, ObservableRole.SOURCE) for v in scalars(value("src_ip"))],
            [ip_observable(v, ObservableRole.DESTINATION) for v in scalars(value("dst_ip"))],
            [host_observable(v) for v in scalars(value("host"))],
            [email_or_user(v) for v in scalars(value("user"))],
            [hash_observable(v) for v in scalars(value("hash"))],
            [o for v in scalars(value("url")) for o in url_observables(v)],
            [domain_observable(v) for v in scalars(value("domain"))],
            text_observables(title, description),
        ),
        raw=json_safe(item),
    )

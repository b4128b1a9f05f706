"""Datadog security signals, from a webhook body the customer builds from variables.

The recommended template maps `$SECURITY_SIGNAL_ID` to `id`, `$SECURITY_RULE_NAME`
to `rule_name`, `$SECURITY_SIGNAL_SEVERITY` to `severity`, `$SECURITY_SIGNAL_TITLE` to
`title`, `$SECURITY_SIGNAL_MSG` to `message`, `$SECURITY_SIGNAL_ATTRIBUTES` to
`attributes`, `$LINK` to `link` and `$DATE` (epoch ms) to `date`. Accepted variants:
`signal_id` for `id`; `attributes` as an object or as a JSON string (the variable
rendered inside quotes); nested or dotted-flat attribute keys.
"""

from __future__ import annotations

import json
from typing import Any

from soar.alerts.models import ObservableRole, Rule, make_alert
from soar.alerts.observables import (
    collect_observables,
    email_observable,
    email_or_user,
    host_observable,
    ip_observable,
    text_observables,
    url_observables,
)
from soar.ingest.parsers.base import Item, ParseContext, ParseError
from soar.ingest.parsers.fields import (
    DESCRIPTION_MAX,
    first,
    first_line,
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

ATTRIBUTES_MAX_CHARS = 256 * 1024


def parse(document: Any, context: ParseContext) -> list[Item]:
    """One alert per signal."""
    document = require_dict(document)
    rule_name = text(document.get("rule_name"))
    message = text(document.get("message"), DESCRIPTION_MAX)
    title = title_text(document.get("title")) or title_text(rule_name) or first_line(message)
    if not title:
        raise ParseError("no title, rule name or message", "title")
    attributes = _attributes(document.get("attributes"))

    def each(*paths: str) -> list[Any]:
        return [value for path in paths for value in scalars(get(attributes, path))]

    return [
        make_alert(
            source=context.source,
            native_key=native_key(first(document, "id", "signal_id")),
            title=title,
            description=message,
            rule=Rule(name=rule_name, id=text(document.get("rule_id"))),
            severity=severity_from_name(document.get("severity")),
            time=first_time(document, "date", "timestamp"),
            link=text(document.get("link")),
            observables=collect_observables(
                [ip_observable(v, ObservableRole.SOURCE) for v in each("network.client.ip")],
                [
                    ip_observable(v, ObservableRole.DESTINATION)
                    for v in each("network.destination.ip")
                ],
                [email_or_user(v) for v in each("usr.name")],
                [email_observable(v, ObservableRole.ACTOR) for v in each("usr.email")],
                [o for v in each("http.url") for o in url_observables(v)],
                [host_observable(v) for v in each("host", "hostname")],
                text_observables(title, message),
            ),
            raw=json_safe(document),
        )
    ]


def _attributes(value: Any) -> dict[str, Any]:
    """The signal attributes as an object, decoding them when sent as a JSON string."""
    if isinstance(value, str) and len(value) <= ATTRIBUTES_MAX_CHARS:
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return {}
    return value if isinstance(value, dict) else {}

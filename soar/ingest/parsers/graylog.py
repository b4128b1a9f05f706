"""Graylog HTTP notification: an event definition plus the event that fired it.

Title is `event_definition_title`; priority 1 low, 2 medium, 3 high (4, newer
Graylog's "critical", critical). `event.source` is the Graylog node that ran the job,
not the system under attack, so it is never an observable; observables come from
`event.group_by_fields` and `event.fields` by field name, and from the event message.
The backlog's messages are kept in `raw` but not mined, to bound the work per alert.
"""

from __future__ import annotations

from typing import Any

from soar.alerts.models import Rule, Severity, SeverityInfo, make_alert
from soar.alerts.observables import collect_observables, keyed_observables, text_observables
from soar.ingest.parsers.base import Item, ParseContext, ParseError
from soar.ingest.parsers.fields import (
    DESCRIPTION_MAX,
    KEY_MAX,
    as_dict,
    description_text,
    json_safe,
    native_key,
    number,
    parse_time,
    require_dict,
    severity_from_name,
    text,
    title_text,
)

PRIORITIES = {1: Severity.LOW, 2: Severity.MEDIUM, 3: Severity.HIGH, 4: Severity.CRITICAL}


def parse(document: Any, context: ParseContext) -> list[Item]:
    """One alert per notification."""
    document = require_dict(document)
    event = document.get("event")
    if not isinstance(event, dict):
        raise ParseError("expected a JSON object", "event")
    definition = text(document.get("event_definition_title"))
    message = text(event.get("message"), DESCRIPTION_MAX)
    title = title_text(definition) or title_text(message)
    if not title:
        raise ParseError("missing event definition title", "event_definition_title")
    return [
        make_alert(
            source=context.source,
            native_key=native_key(event.get("id")),
            title=title,
            description=description_text(document.get("event_definition_description"), message),
            rule=Rule(name=definition, id=text(document.get("event_definition_id"))),
            severity=_severity(event.get("priority")),
            time=parse_time(event.get("timestamp")),
            observables=collect_observables(
                keyed_observables(as_dict(event.get("group_by_fields"))),
                keyed_observables(as_dict(event.get("fields"))),
                text_observables(message),
            ),
            raw=json_safe(document),
        )
    ]


def _severity(priority: Any) -> SeverityInfo:
    """By the event priority number, else as a severity word."""
    score = number(priority)
    level = PRIORITIES.get(int(score)) if score is not None else None
    if level is None:
        return severity_from_name(priority)
    return SeverityInfo(level=level, original=text(priority, KEY_MAX))

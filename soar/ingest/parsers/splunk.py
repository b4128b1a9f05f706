"""Splunk webhook alert action: `{sid, search_name, app, owner, results_link, result}`.

Splunk sends only the first result row, with the search's output fields (CIM names:
`src`, `dest`, `host`, `user`, `src_user`, `file_hash`, `url`, `severity`/`urgency`,
`_time`). `sid` is the search job, shared by every row of that run, so the dedup key
is `sid` plus a hash of the row.
"""

from __future__ import annotations

from typing import Any

from soar.alerts.models import ObservableRole, Rule, make_alert
from soar.alerts.observables import (
    collect_observables,
    email_or_user,
    hash_observable,
    host_observable,
    text_observables,
    url_observables,
)
from soar.ingest.parsers.base import Item, ParseContext, ParseError
from soar.ingest.parsers.fields import (
    DESCRIPTION_MAX,
    canonical_hash,
    first,
    first_text,
    json_safe,
    native_key,
    parse_time,
    require_dict,
    scalars,
    severity_from_name,
    text,
    title_text,
)


def parse(document: Any, context: ParseContext) -> list[Item]:
    """One alert per webhook call."""
    document = require_dict(document)
    result = document.get("result")
    if result is None:
        result = {}
    if not isinstance(result, dict):
        raise ParseError("expected a JSON object", "result")
    title = title_text(document.get("search_name"))
    if not title:
        raise ParseError("missing search name", "search_name")
    sid = text(document.get("sid"))
    description = first_text(result, "description", "message", limit=DESCRIPTION_MAX)

    def each(key: str) -> list[Any]:
        return scalars(result.get(key))

    return [
        make_alert(
            source=context.source,
            native_key=native_key(sid, canonical_hash(result, "result")) if sid else None,
            title=title,
            description=description,
            rule=Rule(name=text(document.get("search_name"))),
            severity=severity_from_name(first(result, "severity", "urgency")),
            time=parse_time(result.get("_time")),
            link=text(document.get("results_link")),
            observables=collect_observables(
                [host_observable(v, ObservableRole.SOURCE) for v in each("src")],
                [host_observable(v, ObservableRole.DESTINATION) for v in each("dest")],
                [host_observable(v) for v in each("host")],
                [email_or_user(v) for v in each("src_user")],
                [email_or_user(v) for v in each("user")],
                [email_or_user(v, ObservableRole.TARGET) for v in each("dest_user")],
                [hash_observable(v) for v in each("file_hash")],
                [o for v in each("url") for o in url_observables(v)],
                text_observables(description),
            ),
            raw=json_safe(document),
        )
    ]

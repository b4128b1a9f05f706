"""The Graylog HTTP notification parser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from soar.alerts.models import Rule, Severity, SeverityInfo
from soar.ingest.parsers.base import ParseError

Parse = Callable[..., Any]


def test_sample(sample: Callable[[str], Any], parse_one: Parse, triples: Parse) -> None:
    alert = parse_one("graylog", sample("graylog.json"))
    assert alert.title == "Repeated MFA push denials"
    assert alert.rule == Rule(name="Repeated MFA push denials", id="65f3a9e1c07b2d4e8a6c1f90")
    assert alert.severity == SeverityInfo(level=Severity.HIGH, original="3")
    assert alert.time == datetime(2026, 3, 14, 10, 25, tzinfo=UTC)
    assert alert.dedup_key == "graylog:01JPEXAMPLE00000000000042"
    assert alert.description == (
        "More than 10 denied MFA pushes for one account in 10 minutes\n"
        "Repeated MFA push denials: count()=14 src_ip=203.0.113.130"
    )
    assert alert.link is None
    assert triples(alert) == [
        ("ip", "203.0.113.130", "source"),
        ("user", "p.novak", "actor"),
    ]
    assert all(o.value != "graylog-node-b" for o in alert.observables)
    assert parse_one("graylog", sample("graylog.json")).id == alert.id


def test_node_source_is_never_an_observable(parse_one: Parse) -> None:
    alert = parse_one(
        "graylog",
        {
            "event_definition_title": "t",
            "event": {"id": "e", "source": "10.9.9.9", "fields": {"dst_host": "web-3"}},
        },
    )
    assert [(o.type.value, o.value, o.role.value) for o in alert.observables] == [
        ("hostname", "web-3", "destination")
    ]


@pytest.mark.parametrize(
    ("priority", "level"),
    [(1, Severity.LOW), (2, Severity.MEDIUM), (3, Severity.HIGH), ("2", Severity.MEDIUM),
     (None, Severity.MEDIUM), (9, Severity.MEDIUM)],
)  # fmt: skip
def test_priority(parse_one: Parse, priority: object, level: Severity) -> None:
    alert = parse_one("graylog", {"event_definition_title": "t", "event": {"priority": priority}})
    assert alert.severity.level is level


def test_message_stands_in_for_a_missing_title(parse_one: Parse) -> None:
    alert = parse_one("graylog", {"event": {"message": "Login burst from hxxp://x[.]example"}})
    assert alert.title == "Login burst from hxxp://x[.]example"
    assert [o.value for o in alert.observables] == ["http://x.example", "x.example"]


def test_unmappable(parse: Parse) -> None:
    with pytest.raises(ParseError) as no_event:
        parse("graylog", {"event_definition_title": "t"})
    assert no_event.value.field == "event"
    with pytest.raises(ParseError) as no_title:
        parse("graylog", {"event": {"id": "e"}})
    assert no_title.value.field == "event_definition_title"

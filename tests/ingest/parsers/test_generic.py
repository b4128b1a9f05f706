"""The generic parser: well-known keys, field_map overrides, batches, fallbacks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from soar.alerts.models import Alert, AlertStatus, Rule, Severity, SeverityInfo
from soar.ingest.parsers.base import ParseError

Parse = Callable[..., Any]


def test_sample(sample: Callable[[str], Any], parse_one: Parse, triples: Parse) -> None:
    alert = parse_one("generic", sample("generic.json"))
    assert alert.title == "Credential theft tool executed"
    assert alert.severity == SeverityInfo(level=Severity.CRITICAL, original="critical")
    assert alert.time == datetime(2026, 3, 14, 12, 10, tzinfo=UTC)
    assert alert.dedup_key == "generic:edr-7731"
    assert alert.description == "LSASS memory read by an unsigned binary; upload to 203.0.113.201"
    assert alert.rule == Rule()
    assert alert.link is None
    assert alert.status is AlertStatus.FIRING
    assert triples(alert) == [
        ("ip", "192.0.2.44", "source"),
        ("hostname", "hr-share-04", "host"),
        ("user", "EXAMPLE\\svc-archive", "actor"),
        ("hash", "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "related"),
        ("url", "https://edr.example.org/alerts/edr-7731", "related"),
        ("domain", "edr.example.org", "related"),
        ("ip", "203.0.113.201", "related"),
    ]
    assert alert.raw == sample("generic.json")
    assert parse_one("generic", sample("generic.json")).id == alert.id


def test_field_map_wins_over_default_keys(parse_one: Parse, triples: Parse) -> None:
    document = {
        "title": "default title",
        "event": {"name": "Mapped title", "sev": "low", "ts": 1763805000},
        "net.src": "203.0.113.4",
        "src_ip": "198.51.100.1",
        "ref": {"id": "abc-1"},
    }
    field_map = {
        "title": "event.name",
        "severity": "event.sev",
        "time": "event.ts",
        "src_ip": "net.src",
        "id": "ref.id",
    }
    alert = parse_one("generic", document, field_map)
    assert alert.title == "Mapped title"
    assert alert.severity == SeverityInfo(level=Severity.LOW, original="low")
    assert alert.time == datetime(2025, 11, 22, 9, 50, tzinfo=UTC)
    assert alert.dedup_key == "generic:abc-1"
    assert triples(alert)[0] == ("ip", "203.0.113.4", "source")


def test_field_map_falls_back_to_default_key(parse_one: Parse) -> None:
    alert = parse_one("generic", {"title": "Fallback"}, {"title": "missing.path"})
    assert alert.title == "Fallback"


def test_batch_with_a_bad_item(parse: Parse) -> None:
    items = parse("generic", [{"title": "one", "id": "1"}, {"severity": "high"}, "junk"])
    assert isinstance(items[0], Alert)
    assert items[0].dedup_key == "generic:1"
    assert isinstance(items[1], ParseError)
    assert items[1].field == "[1].title"
    assert isinstance(items[2], ParseError)
    assert items[2].field == "[2]"


def test_title_fallbacks(parse_one: Parse) -> None:
    assert parse_one("generic", {"rule_name": "Rule X"}).title == "Rule X"
    by_rule_object = parse_one("generic", {"rule": {"name": "Rule Y", "id": "r-9"}})
    assert by_rule_object.title == "Rule Y"
    assert by_rule_object.rule == Rule(name="Rule Y", id="r-9")
    described = parse_one("generic", {"description": "\n  First line\nsecond"})
    assert described.title == "First line"


def test_no_title_raises_naming_the_field(parse: Parse) -> None:
    with pytest.raises(ParseError) as error:
        parse("generic", {"severity": "high", "title": {"not": "text"}})
    assert error.value.field == "title"
    with pytest.raises(ParseError) as mapped:
        parse("generic", {}, {"title": "x.y"})
    assert mapped.value.field == "x.y"
    with pytest.raises(ParseError):
        parse("generic", "a string body")


@pytest.mark.parametrize(
    ("value", "level", "original"),
    [
        ("HIGH", Severity.HIGH, "HIGH"),
        ("warning", Severity.MEDIUM, "warning"),
        ("info", Severity.INFORMATIONAL, "info"),
        (5, Severity.CRITICAL, "5"),
        ("2", Severity.LOW, "2"),
        ("weird", Severity.MEDIUM, "weird"),
        (None, Severity.MEDIUM, None),
    ],
)
def test_severity(parse_one: Parse, value: object, level: Severity, original: str | None) -> None:
    alert = parse_one("generic", {"title": "t", "severity": value})
    assert alert.severity == SeverityInfo(level=level, original=original)


def test_other_fields(parse_one: Parse, triples: Parse) -> None:
    alert = parse_one(
        "generic",
        {
            "title": "x" * 2000,
            "description": "d" * 9000,
            "dst_ip": ["10.0.0.1", "999.0.0.1"],
            "domain": "Evil.Example",
            "user": "eve@example.com",
            "link": "https://console.example/a/1",
            "status": "Resolved",
            "time": "garbage",
        },
    )
    assert len(alert.title) == 500
    assert len(alert.description or "") == 4000
    assert alert.link == "https://console.example/a/1"
    assert alert.status is AlertStatus.RESOLVED
    assert alert.time.tzinfo is not None
    assert triples(alert)[:3] == [
        ("ip", "10.0.0.1", "destination"),
        ("email", "eve@example.com", "actor"),
        ("domain", "evil.example", "related"),
    ]


def test_without_id_the_content_hash_is_stable(parse_one: Parse) -> None:
    document = {"title": "t", "time": "2026-01-01T00:00:00Z", "src_ip": "10.0.0.9"}
    first = parse_one("generic", document)
    assert first.dedup_key.startswith("content:")
    assert parse_one("generic", dict(document)).dedup_key == first.dedup_key


def test_lone_surrogates_never_reach_the_model(parse_one: Parse) -> None:
    alert = parse_one("generic", {"title": "bad \ud800 title", "user": "u\udfff", "x": "\ud800"})
    assert alert.title == "bad ? title"
    assert [o.value for o in alert.observables] == ["u?"]
    assert alert.raw == {"title": "bad ? title", "user": "u?", "x": "?"}
    alert.model_dump_json()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22T10:05:00Z", datetime(2026, 11, 22, 10, 5, tzinfo=UTC)),
        ("2026-11-22T11:05:00+0100", datetime(2026, 11, 22, 10, 5, tzinfo=UTC)),
        ("2026-11-22T10:05:00.123456789+00:00", datetime(2026, 11, 22, 10, 5, 0, 123456, UTC)),
        ("2026-11-22 10:05:00", datetime(2026, 11, 22, 10, 5, tzinfo=UTC)),
        (1763805000, datetime(2025, 11, 22, 9, 50, tzinfo=UTC)),
        (1763805000.5, datetime(2025, 11, 22, 9, 50, 0, 500000, UTC)),
        ("1763805000000", datetime(2025, 11, 22, 9, 50, tzinfo=UTC)),
        (1763805000000000, datetime(2025, 11, 22, 9, 50, tzinfo=UTC)),
    ],
)
def test_time_formats(parse_one: Parse, value: object, expected: datetime) -> None:
    assert parse_one("generic", {"title": "t", "time": value}).time == expected


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-01:00", "yesterday", True, 1e300]
)
def test_unusable_times_fall_back_to_now(parse_one: Parse, value: object) -> None:
    before = datetime.now(UTC)
    assert parse_one("generic", {"title": "t", "time": value}).time >= before

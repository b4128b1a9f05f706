"""The Splunk webhook parser."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from soar.alerts.models import Rule, Severity, SeverityInfo
from soar.ingest.parsers.base import ParseError

Parse = Callable[..., Any]
SID = "scheduler__secops__search__RMD5f0e1d2c3b4a59687_at_1773484800_917"


def test_sample(sample: Callable[[str], Any], parse_one: Parse, triples: Parse) -> None:
    document = sample("splunk.json")
    alert = parse_one("splunk", document)
    assert alert.title == "Repeated sudo failures on jump hosts"
    assert alert.rule == Rule(name="Repeated sudo failures on jump hosts")
    assert alert.severity == SeverityInfo(level=Severity.HIGH, original="high")
    assert alert.time == datetime.fromtimestamp(1773476795, UTC)
    assert alert.link == document["results_link"]
    canonical = json.dumps(document["result"], sort_keys=True, separators=(",", ":"))
    row_hash = hashlib.sha256(canonical.encode()).hexdigest()
    assert alert.dedup_key == f"splunk:{SID}:{row_hash}"
    assert triples(alert) == [
        ("ip", "198.51.100.71", "source"),
        ("ip", "192.0.2.30", "destination"),
        ("hostname", "jump-02", "host"),
        ("user", "deploy", "actor"),
    ]
    assert parse_one("splunk", sample("splunk.json")).id == alert.id


def test_rows_of_one_search_are_distinct(sample: Callable[[str], Any], parse_one: Parse) -> None:
    first = sample("splunk.json")
    second = copy.deepcopy(first)
    second["result"]["src"] = "198.51.100.72"
    assert parse_one("splunk", first).dedup_key != parse_one("splunk", second).dedup_key


def test_cim_fields_and_urgency(parse_one: Parse, triples: Parse) -> None:
    alert = parse_one(
        "splunk",
        {
            "search_name": "Malware download",
            "result": {
                "urgency": "critical",
                "src": "ws-17",
                "src_user": "alice",
                "dest_user": "bob",
                "file_hash": "44D88612FEA8A8F36DE82E1278ABB02F",
                "url": "hxxp://dl.evil[.]example/p.exe",
                "_time": "2026-11-22T10:00:00+00:00",
            },
        },
    )
    assert alert.severity == SeverityInfo(level=Severity.CRITICAL, original="critical")
    assert alert.time == datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert alert.dedup_key.startswith("content:")
    assert triples(alert) == [
        ("hostname", "ws-17", "source"),
        ("user", "alice", "actor"),
        ("user", "bob", "target"),
        ("hash", "44d88612fea8a8f36de82e1278abb02f", "related"),
        ("url", "http://dl.evil.example/p.exe", "related"),
        ("domain", "dl.evil.example", "related"),
    ]


def test_missing_result_is_tolerated(parse_one: Parse) -> None:
    alert = parse_one("splunk", {"search_name": "Test alert", "sid": "s1"})
    assert alert.severity == SeverityInfo(level=Severity.MEDIUM, original=None)
    assert alert.observables == []


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"sid": "s", "result": {}}, "search_name"),
        ({"search_name": "x", "result": ["row"]}, "result"),
        ([], None),
    ],
)
def test_unmappable(parse: Parse, document: object, field: str | None) -> None:
    with pytest.raises(ParseError) as error:
        parse("splunk", document)
    assert error.value.field == field

"""The Wazuh parser: raw alerts and the Shuffle-wrapped shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from soar.alerts.models import Rule, Severity, SeverityInfo
from soar.ingest.parsers.base import ParseError

Parse = Callable[..., Any]
DESCRIPTION = "sshd: repeated failed logins for an invalid user."
SHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"


def test_sample(sample: Callable[[str], Any], parse_one: Parse, triples: Parse) -> None:
    alert = parse_one("wazuh", sample("wazuh.json"))
    assert alert.title == DESCRIPTION
    assert alert.rule == Rule(name=DESCRIPTION, id="100201")
    assert alert.severity == SeverityInfo(level=Severity.MEDIUM, original="10")
    assert alert.time == datetime(2026, 3, 14, 9, 20, 11, 250000, tzinfo=UTC)
    assert alert.dedup_key == "wazuh:1773480011.51234"
    assert alert.description == (
        "Mar 14 09:20:10 app-05 sshd[3141]: Invalid user oracle from 203.0.113.77 port 40022"
    )
    assert alert.link is None
    assert triples(alert) == [
        ("ip", "203.0.113.77", "source"),
        ("user", "oracle", "actor"),
        ("hostname", "app-05", "host"),
        ("ip", "192.0.2.77", "host"),
    ]
    assert parse_one("wazuh", sample("wazuh.json")).id == alert.id


def test_shuffle_wrapped_equals_raw(sample: Callable[[str], Any], parse_one: Parse) -> None:
    raw = sample("wazuh.json")
    wrapped = {
        "severity": 2,
        "pretext": "WAZUH Alert",
        "title": raw["rule"]["description"],
        "text": raw["full_log"],
        "rule_id": "100201",
        "timestamp": raw["timestamp"],
        "id": raw["id"],
        "all_fields": raw,
    }
    direct, via_wrapper = parse_one("wazuh", raw), parse_one("wazuh", wrapped)
    assert via_wrapper.dedup_key == direct.dedup_key
    assert via_wrapper.title == direct.title
    assert via_wrapper.severity == direct.severity
    assert via_wrapper.observables == direct.observables
    assert via_wrapper.raw["pretext"] == "WAZUH Alert"


def test_wrapper_fills_gaps(parse_one: Parse) -> None:
    alert = parse_one(
        "wazuh",
        {
            "severity": 3,
            "title": "Wrapper title",
            "text": "wrapper text",
            "rule_id": "999",
            "timestamp": "2026-11-22T09:00:00.000+0000",
            "id": "w-1",
            "all_fields": {"agent": {"id": "000", "name": "wazuh-manager"}},
        },
    )
    assert alert.title == "Wrapper title"
    assert alert.rule == Rule(name=None, id="999")
    assert alert.severity == SeverityInfo(level=Severity.HIGH, original="3")
    assert alert.description == "wrapper text"
    assert alert.dedup_key == "wazuh:w-1"
    assert alert.time == datetime(2026, 11, 22, 9, tzinfo=UTC)
    assert [(o.type.value, o.value) for o in alert.observables] == [("hostname", "wazuh-manager")]


@pytest.mark.parametrize(
    ("level", "expected"),
    [(0, Severity.LOW), (6, Severity.LOW), (7, Severity.MEDIUM), (11, Severity.MEDIUM),
     (12, Severity.HIGH), (14, Severity.HIGH), (15, Severity.CRITICAL), ("13", Severity.HIGH)],
)  # fmt: skip
def test_level_bands(parse_one: Parse, level: object, expected: Severity) -> None:
    alert = parse_one("wazuh", {"rule": {"description": "r", "level": level}})
    assert alert.severity == SeverityInfo(level=expected, original=str(level))


def test_data_and_syscheck_observables(parse_one: Parse, triples: Parse) -> None:
    alert = parse_one(
        "wazuh",
        {
            "rule": {"description": "File modified", "level": 7},
            "data": {"dstip": "10.0.0.2", "dstuser": "svc", "url": "hxxp://evil[.]example/x"},
            "syscheck": {"path": "/etc/passwd", "sha256_after": SHA256, "md5_after": "-"},
            "full_log": "integrity checksum changed for /etc/passwd",
        },
    )
    assert triples(alert) == [
        ("ip", "10.0.0.2", "destination"),
        ("user", "svc", "target"),
        ("url", "http://evil.example/x", "related"),
        ("domain", "evil.example", "related"),
        ("hash", SHA256, "related"),
    ]


def test_unmappable(parse: Parse) -> None:
    with pytest.raises(ParseError) as raw:
        parse("wazuh", {"rule": {"level": 3}})
    assert raw.value.field == "rule.description"
    with pytest.raises(ParseError) as wrapped:
        parse("wazuh", {"all_fields": {}})
    assert wrapped.value.field == "all_fields.rule.description"

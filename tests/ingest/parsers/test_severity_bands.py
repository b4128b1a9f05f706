"""Severity band edges of the parsers whose vendors grade on a number: each threshold
and the value just below it, so an off-by-one in a band (`<` for `<=`) shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from soar.alerts.models import Severity, SeverityInfo

Parse = Callable[..., Any]


@pytest.mark.parametrize(
    ("score", "level"),
    [(0, Severity.LOW), (3.9, Severity.LOW), (4.0, Severity.MEDIUM), (6.9, Severity.MEDIUM),
     (7.0, Severity.HIGH), (8.9, Severity.HIGH), (9.0, Severity.CRITICAL),
     (10, Severity.CRITICAL), ("3.9", Severity.LOW), ("7.0", Severity.HIGH)],
)  # fmt: skip
def test_guardduty_severity_bands(parse_one: Parse, score: object, level: Severity) -> None:
    """GuardDuty: below 4 low, below 7 medium, below 9 high, else critical; the score is
    kept as sent."""
    enveloped = parse_one(
        "guardduty", {"detail": {"type": "Recon:EC2/Portscan", "severity": score}}
    )
    bare = parse_one("guardduty", {"type": "Recon:EC2/Portscan", "severity": score})
    assert enveloped.severity == SeverityInfo(level=level, original=str(score))
    assert bare.severity == enveloped.severity


@pytest.mark.parametrize(
    ("level", "expected"),
    [(6, Severity.LOW), (6.5, Severity.LOW), (7, Severity.MEDIUM), (11, Severity.MEDIUM),
     (12, Severity.HIGH), (14, Severity.HIGH), (15, Severity.CRITICAL), (16, Severity.CRITICAL)],
)  # fmt: skip
def test_wazuh_level_bands_in_the_shuffle_wrapper(
    parse_one: Parse, level: object, expected: Severity
) -> None:
    """The level bands hold inside the Shuffle wrapper too, and win over its 1|2|3."""
    wrapped = {"severity": 1, "all_fields": {"rule": {"description": "r", "level": level}}}
    assert parse_one("wazuh", wrapped).severity == SeverityInfo(level=expected, original=str(level))


@pytest.mark.parametrize(
    ("severity", "level"),
    [(1, Severity.HIGH), (2, Severity.MEDIUM), (3, Severity.LOW), (4, Severity.INFORMATIONAL),
     ("2", Severity.MEDIUM)],
)  # fmt: skip
def test_suricata_severity_in_an_ndjson_batch(
    parse: Parse, severity: object, level: Severity
) -> None:
    """Suricata 1/2/3 (and 4 and up) map the same when the event is one of a batch."""
    event = {"event_type": "alert", "alert": {"signature": "s", "severity": severity}}
    (item,) = parse("suricata", [event])
    assert item.severity == SeverityInfo(level=level, original=str(severity))

"""One verdict per observable across sources, markings as alerts carry them."""

from __future__ import annotations

import pytest

from soar.alerts.models import Observable, ObservableType
from soar.enrichment.combine import combine
from soar.enrichment.markings import Markings, parse_tlp
from soar.enrichment.models import SkipKind, SourceResult, SourceStatus, Tlp, Verdict
from soar.ingest.parsers import alertmanager, generic
from soar.ingest.parsers.base import ParseContext

from .support import alert

ADDRESS = Observable(type=ObservableType.IP, value="45.155.205.233")


def said(provider: str, verdict: Verdict, score: int, reason: str | None = None) -> SourceResult:
    return SourceResult(
        provider=provider,
        status=SourceStatus.ANSWERED,
        verdict=verdict,
        score=score,
        reason=reason or f"{provider} reason",
    )


def skipped(provider: str, why: str) -> SourceResult:
    return SourceResult(
        provider=provider, status=SourceStatus.SKIPPED, reason=why, skip=SkipKind.QUOTA
    )


@pytest.mark.parametrize(
    ("answers", "verdict", "score", "by"),
    [
        (
            [said("a", Verdict.MALICIOUS, 90), said("b", Verdict.MALICIOUS, 70)],
            "malicious", 90, "ab",
        ),
        ([said("a", Verdict.MALICIOUS, 90), said("b", Verdict.BENIGN, 0)], "suspicious", 45, "ab"),
        (
            [said("a", Verdict.MALICIOUS, 95), said("c", Verdict.MALICIOUS, 80),
             said("b", Verdict.BENIGN, 0)],
            "malicious", 95, "ac",
        ),
        ([said("a", Verdict.SUSPICIOUS, 40), said("b", Verdict.UNKNOWN, 0)], "suspicious", 40, "a"),
        ([said("a", Verdict.SUSPICIOUS, 40), said("b", Verdict.BENIGN, 10)], "unknown", 25, "ab"),
        ([said("a", Verdict.BENIGN, 5), said("b", Verdict.BENIGN, 0)], "benign", 0, "ba"),
        ([said("a", Verdict.UNKNOWN, 10), said("b", Verdict.UNKNOWN, 0)], "unknown", 10, ""),
        ([], "unknown", 0, ""),
    ],
)  # fmt: skip
def test_the_combined_verdict_counts_the_sources_that_took_a_side(
    answers: list[SourceResult], verdict: str, score: int, by: str
) -> None:
    combined = combine(ADDRESS, answers)

    assert (combined.verdict.value, combined.score, "".join(combined.by)) == (verdict, score, by)


def test_the_reasons_name_the_deciding_sources_the_dissent_and_who_was_not_asked() -> None:
    combined = combine(
        ADDRESS,
        [
            said("abuseipdb", Verdict.MALICIOUS, 100, "reported 523 times"),
            said("virustotal", Verdict.MALICIOUS, 80, "9 engines say malicious"),
            said("greynoise", Verdict.BENIGN, 0, "a benign scanner"),
            skipped("shodan", "daily quota used (100/100), resets 00:00 UTC"),
        ],
    )

    assert combined.reasons == [
        "abuseipdb: reported 523 times; virustotal: 9 engines say malicious",
        "disagreeing: greynoise: a benign scanner",
        "shodan skipped: daily quota used (100/100), resets 00:00 UTC",
    ]
    assert (
        combined.line() == "45.155.205.233: malicious (100/100) according to abuseipdb, virustotal"
    )
    disputed = combine(ADDRESS, [said("a", Verdict.MALICIOUS, 90), said("b", Verdict.BENIGN, 0)])
    assert disputed.reasons[0] == "sources disagree: a says malicious, b says benign"
    assert disputed.line() == "45.155.205.233: suspicious (45/100): a says malicious, b says benign"


@pytest.mark.parametrize(
    ("text", "tlp"),
    [
        ("TLP:RED", Tlp.RED),
        ("tlp:white", Tlp.CLEAR),
        ("amber", Tlp.AMBER),
        ("TLP: AMBER+STRICT", Tlp.AMBER_STRICT),
        ("tlp-green", Tlp.GREEN),
        ("confidential", None),
        (3, None),
    ],
)
def test_markings_are_read_the_ways_people_write_them(text: object, tlp: Tlp | None) -> None:
    assert parse_tlp(text) is tlp


def test_an_alert_is_marked_by_the_most_restricted_of_its_source_and_its_own_marking() -> None:
    markings = Markings({"partner": Tlp.RED, "soc": Tlp.GREEN}, default=Tlp.AMBER)

    assert markings.of(alert(source="partner", marking="green")) is Tlp.RED
    assert markings.of(alert(source="soc", marking="amber")) is Tlp.AMBER
    assert markings.of(alert(source="soc")) is Tlp.GREEN
    assert markings.of(alert(source="elsewhere")) is Tlp.AMBER


def test_parsers_carry_the_senders_marking() -> None:
    context = ParseContext(source="generic")
    tagged, field, none = (
        generic.parse(body, context)[0]
        for body in (
            {"title": "x", "tags": ["phishing", "TLP:RED", "tlp:green"]},
            {"title": "x", "tlp": "amber+strict"},
            {"title": "x", "tags": "phishing"},
        )
    )
    [grouped] = alertmanager.parse(
        {"alerts": [{"labels": {"alertname": "Scan", "tlp": "green"}, "annotations": {}}]},
        ParseContext(source="alertmanager"),
    )

    assert [getattr(a, "marking", None) for a in (tagged, field, none, grouped)] == [
        "red",
        "amber+strict",
        None,
        "green",
    ]

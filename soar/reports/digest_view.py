"""What a digest says, as data: its figures in words, the context every digest template
(`digest.md.j2`, `digest.html.j2`, `digest.slack.j2`) is rendered with.

Each figure is one :class:`FigureRow` — this period, the previous one, and the change —
so the three formats say the same thing in the same words. Rule and source names came
from alerts and are attacker-controlled: they are cleaned and clipped here (see
:mod:`soar.reports.text`) and escaped by each template for its format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from soar.alerts.models import Severity
from soar.reports.digest_contract import DigestPeriod
from soar.reports.digest_window import DigestWindow
from soar.reports.figures import DigestFigures, Durations, PeriodFigures
from soar.reports.text import line

RULE_LENGTH = 160
SOURCE_LENGTH = 60
NONE = "-"
"""Shown where there is nothing to measure (no case resolved, no approval decided)."""
SEVERITIES = [level.value for level in reversed(Severity)]
"""Most severe first, as the source table's columns."""
SEVERITY_LABELS = [level.replace("informational", "info") for level in SEVERITIES]
"""The columns' headings: short enough for a narrow column."""
SLA_NAMES = {
    "acknowledge": "SLA breaches: time to acknowledge",
    "decide": "SLA breaches: time to decide",
}

Judgement = Literal["better", "worse", ""]
"""Whether a change is good news (a faster response, fewer breaches), bad news, or
neither (more alerts are not better or worse in themselves)."""


@dataclass(frozen=True)
class FigureRow:
    """One figure against the previous period."""

    label: str
    current: str
    previous: str
    change: str
    judgement: Judgement = ""


@dataclass(frozen=True)
class FigureSection:
    title: str
    rows: list[FigureRow]


@dataclass(frozen=True)
class SourceRow:
    """Alerts of one source (or the total) by severity, most severe first."""

    source: str
    by_severity: list[int]
    total: int
    previous_total: int
    change: str


@dataclass(frozen=True)
class RuleRow:
    rank: int
    rule: str
    alerts: int
    previous_alerts: int
    change: str


@dataclass(frozen=True)
class DayRow:
    day: str
    alerts: int
    cases: int


@dataclass(frozen=True)
class DigestView:
    """Everything a digest template shows."""

    title: str
    period: str
    previous_period: str
    timezone: str
    sections: list[FigureSection]
    severities: list[str]
    sources: list[SourceRow]
    source_total: SourceRow
    rules: list[RuleRow]
    days: list[DayRow]
    headline: str
    """One line for a notification: alerts, cases opened and resolved."""


def digest_view(figures: DigestFigures) -> DigestView:
    """The digest of `figures` in words."""
    window = figures.window
    now, before = figures.current, figures.previous
    return DigestView(
        title=_title(window),
        period=_stretch(window.start, window.end, window),
        previous_period=_stretch(window.previous_start, window.start, window),
        timezone=window.timezone,
        sections=_sections(now, before),
        severities=SEVERITY_LABELS,
        sources=_sources(now, before),
        source_total=_source_row("All sources", _total_by_severity(now), now.alerts, before.alerts),
        rules=[
            RuleRow(
                n,
                line(r.rule, RULE_LENGTH),
                r.alerts,
                r.previous_alerts,
                count_change(r.alerts, r.previous_alerts),
            )
            for n, r in enumerate(figures.rules, start=1)
        ],
        days=[DayRow(d.day.strftime("%a %d %b %Y"), d.alerts, d.cases) for d in figures.days],
        headline=(
            f"{now.alerts:,} alerts ({count_change(now.alerts, before.alerts)}), "
            f"{now.cases_opened:,} cases opened, {now.cases_resolved:,} resolved"
        ),
    )


def _title(window: DigestWindow) -> str:
    last = window.last_day
    if window.label == DigestPeriod.DAILY.value:
        return f"Daily digest: {last:%A} {last.day} {last:%B %Y}"
    if window.label == DigestPeriod.WEEKLY.value:
        first = window.start.astimezone(window.zone).date()
        return f"Weekly digest: {first.day} {first:%B} to {last.day} {last:%B %Y}"
    return f"Digest: the {window.label}"


def _stretch(start: datetime, end: datetime, window: DigestWindow) -> str:
    zone = window.zone
    return (
        f"{start.astimezone(zone):%Y-%m-%d %H:%M} to {end.astimezone(zone):%Y-%m-%d %H:%M} "
        f"{window.timezone}"
    )


def _sections(now: PeriodFigures, before: PeriodFigures) -> list[FigureSection]:
    return [
        FigureSection(
            "Alerts and cases",
            [
                _count("Alerts", now.alerts, before.alerts),
                _count("Cases opened", now.cases_opened, before.cases_opened),
                _count("Cases resolved or closed", now.cases_resolved, before.cases_resolved),
                _rate("Automation rate (resolved with no person's step)", now, before),
            ],
        ),
        FigureSection(
            "Response times",
            [
                _count("Cases acknowledged", now.acknowledge.count, before.acknowledge.count),
                *_durations("Time to acknowledge", now.acknowledge, before.acknowledge),
                *_durations("Time to resolve", now.resolve, before.resolve),
            ],
        ),
        FigureSection(
            "Approvals and SLAs",
            [
                _count("Approvals decided", now.decide.count, before.decide.count),
                *_durations("Time to decide", now.decide, before.decide),
                _count(
                    "Approvals expired",
                    now.approvals_expired,
                    before.approvals_expired,
                    lower_is_better=True,
                ),
                *(
                    _count(
                        SLA_NAMES.get(sla, f"SLA breaches: {line(sla, SOURCE_LENGTH)}"),
                        now.sla_breaches.get(sla, 0),
                        before.sla_breaches.get(sla, 0),
                        lower_is_better=True,
                    )
                    for sla in sorted(
                        now.sla_breaches.keys() | before.sla_breaches.keys(), key=_sla_order
                    )
                ),
            ],
        ),
        FigureSection(
            "Containment",
            [
                _count(
                    "Containments applied", now.containments_applied, before.containments_applied
                ),
                _count("In force at the end", now.containments_active, before.containments_active),
                _count("Expired", now.containments_expired, before.containments_expired),
            ],
        ),
    ]


def _sla_order(name: str) -> tuple[int, str]:
    return (list(SLA_NAMES).index(name) if name in SLA_NAMES else len(SLA_NAMES), name)


def _count(label: str, now: int, before: int, *, lower_is_better: bool = False) -> FigureRow:
    judgement: Judgement = ""
    if lower_is_better and now != before:
        judgement = "better" if now < before else "worse"
    return FigureRow(label, f"{now:,}", f"{before:,}", count_change(now, before), judgement)


def count_change(now: int, before: int) -> str:
    """`+3 (+25 %)`, `-2 (-10 %)`, `no change`, or `+4 (new)` from nothing."""
    if now == before:
        return "no change"
    difference = f"{now - before:+,}"
    if before == 0:
        return f"{difference} (new)"
    percent = f"{(now - before) / before * 100:+.0f}"
    return f"{difference} ({percent} %)"


def _rate(label: str, now: PeriodFigures, before: PeriodFigures) -> FigureRow:
    """The automation rate against the previous one, in percentage points: higher is
    better."""
    rate, earlier = now.automation_rate, before.automation_rate
    change = NONE
    judgement: Judgement = ""
    if rate is not None and earlier is not None:
        points = round((rate - earlier) * 100)
        change = "no change" if points == 0 else f"{points:+} pts"
        if points:
            judgement = "better" if points > 0 else "worse"
    return FigureRow(label, _percent(now), _percent(before), change, judgement)


def _percent(figures: PeriodFigures) -> str:
    rate = figures.automation_rate
    if rate is None:
        return NONE
    return f"{rate * 100:.0f} % ({figures.cases_automated} of {figures.cases_resolved})"


def _durations(label: str, now: Durations, before: Durations) -> list[FigureRow]:
    return [
        _duration(f"{label}, mean", now.mean_seconds, before.mean_seconds),
        _duration(f"{label}, median", now.median_seconds, before.median_seconds),
    ]


def _duration(label: str, now: float | None, before: float | None) -> FigureRow:
    """A duration against the previous one: shorter is better."""
    change = NONE
    judgement: Judgement = ""
    if now is not None and before is not None:
        difference = now - before
        if abs(difference) < 1:
            change = "no change"
        else:
            change = ("+" if difference > 0 else "-") + duration(abs(difference))
            judgement = "worse" if difference > 0 else "better"
    return FigureRow(
        label,
        duration(now) if now is not None else NONE,
        duration(before) if before is not None else NONE,
        change,
        judgement,
    )


def duration(seconds: float) -> str:
    """`45 s`, `12 min`, `3 h 05 min`, `2 d 4 h`: a duration as a person reads it."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    hours = round(seconds / 3600)
    return f"{hours // 24} d {hours % 24} h"


def _total_by_severity(figures: PeriodFigures) -> dict[str, int]:
    totals: dict[str, int] = {}
    for levels in figures.alerts_by_source.values():
        for level, count in levels.items():
            totals[level] = totals.get(level, 0) + count
    return totals


def _sources(now: PeriodFigures, before: PeriodFigures) -> list[SourceRow]:
    names = now.alerts_by_source.keys() | before.alerts_by_source.keys()
    rows = [
        _source_row(
            line(name, SOURCE_LENGTH),
            now.alerts_by_source.get(name, {}),
            sum(now.alerts_by_source.get(name, {}).values()),
            sum(before.alerts_by_source.get(name, {}).values()),
        )
        for name in names
    ]
    return sorted(rows, key=lambda row: (-row.total, -row.previous_total, row.source))


def _source_row(source: str, levels: dict[str, int], total: int, previous: int) -> SourceRow:
    return SourceRow(
        source,
        [levels.get(level, 0) for level in SEVERITIES],
        total,
        previous,
        count_change(total, previous),
    )

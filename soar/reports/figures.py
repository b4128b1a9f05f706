"""A digest's figures, read from the case store in SQL that SQLite and PostgreSQL share.

Each figure is counted for the period and for the previous period of the same length
(see :mod:`soar.reports.digest_window`), each measured when it completes:

- alerts by source and severity, by their time (when the sender says they happened,
  else when they were received);
- cases opened (created in the period) and resolved (resolved or closed in the period:
  the latest state change a command made on a case that is resolved or closed now);
- the automation rate: of the cases resolved, those with no timeline entry by a person
  up to their resolution (an actor other than `system` or `playbook:<name>`);
- time to acknowledge (the case's first `acknowledged` entry, for cases first
  acknowledged in the period) and to resolve (for cases resolved in it), mean and median;
- time to decide approvals (approved or denied in the period) and approvals expired;
- SLA breaches by SLA (`acknowledge`, `decide`);
- containments applied in the period, in force at its end, and expired in it (reached
  their expiry without being reverted before it);
- the noisiest rules (the alert's rule name, or its title when it names none);
- alerts and cases opened per day.

Counts and groupings are SQL; means and medians are taken in Python over the durations
SQL selects (one row per case or approval: medians have no portable SQL).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from soar.approvals.models import ApprovalState
from soar.cases.models import CaseState, TimelineKind
from soar.reports.digest_window import DayBucket, DigestWindow
from soar.store.schema import (
    AlertRow,
    ApprovalRow,
    CaseRow,
    ContainmentActionRow,
    TimelineEventRow,
)

ALERTS = cast(Table, AlertRow.__table__)
CASES = cast(Table, CaseRow.__table__)
TIMELINE = cast(Table, TimelineEventRow.__table__)
APPROVALS = cast(Table, ApprovalRow.__table__)
ACTIONS = cast(Table, ContainmentActionRow.__table__)

NOISIEST_RULES = 5
FINISHED = (CaseState.RESOLVED.value, CaseState.CLOSED.value)
DECIDED = (ApprovalState.APPROVED.value, ApprovalState.DENIED.value)
SLAS = ("acknowledge", "decide")


@dataclass(frozen=True)
class Durations:
    """How long something took, over `count` occurrences (None when there were none)."""

    count: int
    mean_seconds: float | None
    median_seconds: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Durations:
        if not seconds:
            return cls(0, None, None)
        return cls(len(seconds), statistics.fmean(seconds), statistics.median(seconds))


@dataclass(frozen=True)
class PeriodFigures:
    """Every figure of one period."""

    start: datetime
    end: datetime
    alerts: int
    alerts_by_source: dict[str, dict[str, int]]
    """source → severity → alerts."""
    cases_opened: int
    cases_resolved: int
    cases_automated: int
    acknowledge: Durations
    resolve: Durations
    decide: Durations
    approvals_expired: int
    sla_breaches: dict[str, int]
    """`acknowledge` and `decide` (and any other SLA a breach names) → breaches."""
    containments_applied: int
    containments_active: int
    containments_expired: int

    @property
    def automation_rate(self) -> float | None:
        """The share of resolved cases no person worked on (None: none resolved)."""
        return self.cases_automated / self.cases_resolved if self.cases_resolved else None


@dataclass(frozen=True)
class RuleCount:
    """One of the noisiest rules: its alerts in the period and in the one before."""

    rule: str
    alerts: int
    previous_alerts: int


@dataclass(frozen=True)
class DayCount:
    """Alerts and cases opened on one calendar day."""

    day: date
    alerts: int
    cases: int


@dataclass(frozen=True)
class DigestFigures:
    """A digest's figures: the period, the one before it, the noisiest rules, the days."""

    window: DigestWindow
    current: PeriodFigures
    previous: PeriodFigures
    rules: list[RuleCount]
    days: list[DayCount]


async def digest_figures(
    engine: AsyncEngine, window: DigestWindow, *, rules: int = NOISIEST_RULES
) -> DigestFigures:
    """Every figure of `window` and of the period before it, in one read transaction."""
    async with engine.connect() as connection:
        current = await period_figures(connection, window.start, window.end)
        previous = await period_figures(connection, window.previous_start, window.start)
        noisiest = await noisiest_rules(connection, window, rules)
        days = await per_day(connection, window.days())
    return DigestFigures(window, current, previous, noisiest, days)


async def period_figures(
    connection: AsyncConnection, start: datetime, end: datetime
) -> PeriodFigures:
    """The figures of `[start, end)`."""
    by_source = await _alerts_by_source(connection, start, end)
    resolved = (await connection.execute(_resolved_cases(start, end))).all()
    acknowledged = (await connection.execute(_first_acknowledgements(start, end))).all()
    decided = (await connection.execute(_decided_approvals(start, end))).all()
    containments = (await connection.execute(_containments(start, end))).one()
    return PeriodFigures(
        start=start,
        end=end,
        alerts=sum(sum(levels.values()) for levels in by_source.values()),
        alerts_by_source=by_source,
        cases_opened=await _scalar(
            connection,
            select(func.count()).where(CASES.c.created_at >= start, CASES.c.created_at < end),
        ),
        cases_resolved=len(resolved),
        cases_automated=sum(1 for row in resolved if not row.worked_by_a_person),
        acknowledge=Durations.of([_seconds(r.created_at, r.acknowledged_at) for r in acknowledged]),
        resolve=Durations.of([_seconds(r.created_at, r.resolved_at) for r in resolved]),
        decide=Durations.of([_seconds(r.requested_at, r.settled_at) for r in decided]),
        approvals_expired=await _scalar(
            connection,
            select(func.count()).where(
                APPROVALS.c.state == ApprovalState.EXPIRED.value,
                APPROVALS.c.settled_at >= start,
                APPROVALS.c.settled_at < end,
            ),
        ),
        sla_breaches=await _sla_breaches(connection, start, end),
        containments_applied=int(containments.applied or 0),
        containments_active=int(containments.active or 0),
        containments_expired=int(containments.expired or 0),
    )


def _seconds(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0)


async def _scalar(connection: AsyncConnection, query: Select[Any]) -> int:
    return int((await connection.execute(query)).scalar_one() or 0)


async def _alerts_by_source(
    connection: AsyncConnection, start: datetime, end: datetime
) -> dict[str, dict[str, int]]:
    query = (
        select(ALERTS.c.source, ALERTS.c.severity, func.count().label("alerts"))
        .where(ALERTS.c.time >= start, ALERTS.c.time < end)
        .group_by(ALERTS.c.source, ALERTS.c.severity)
    )
    by_source: dict[str, dict[str, int]] = defaultdict(dict)
    for row in await connection.execute(query):
        by_source[row.source][row.severity] = int(row.alerts)
    return dict(by_source)


def _person(actor: ColumnElement[str]) -> ColumnElement[bool]:
    """An actor that is a person: neither the product nor one of its playbooks."""
    return and_(actor != "system", ~actor.startswith("playbook:", autoescape=True))


def _resolved_cases(start: datetime, end: datetime) -> Select[Any]:
    """The cases resolved or closed in `[start, end)`: their creation, their resolution
    (the latest state change a command made; the case's last change if none is on the
    timeline) and whether a person worked on them up to it."""
    changes = (
        select(TIMELINE.c.case_id, func.max(TIMELINE.c.at).label("at"))
        .where(
            TIMELINE.c.kind == TimelineKind.STATE_CHANGED.value,
            TIMELINE.c.data["command_id"].as_string().is_not(None),
        )
        .group_by(TIMELINE.c.case_id)
        .subquery("state_changes")
    )
    finished = (
        select(
            CASES.c.id,
            CASES.c.created_at,
            func.coalesce(changes.c.at, CASES.c.updated_at).label("resolved_at"),
        )
        .select_from(CASES.outerjoin(changes, changes.c.case_id == CASES.c.id))
        .where(CASES.c.state.in_(FINISHED))
        .subquery("finished")
    )
    by_a_person = exists(
        select(TIMELINE.c.id).where(
            TIMELINE.c.case_id == finished.c.id,
            TIMELINE.c.at <= finished.c.resolved_at,
            _person(TIMELINE.c.actor),
        )
    )
    return select(
        finished.c.created_at,
        finished.c.resolved_at,
        by_a_person.label("worked_by_a_person"),
    ).where(finished.c.resolved_at >= start, finished.c.resolved_at < end)


def _first_acknowledgements(start: datetime, end: datetime) -> Select[Any]:
    """The cases first acknowledged in `[start, end)`, with their creation."""
    first = (
        select(TIMELINE.c.case_id, func.min(TIMELINE.c.at).label("at"))
        .where(TIMELINE.c.kind == TimelineKind.ACKNOWLEDGED.value)
        .group_by(TIMELINE.c.case_id)
        .subquery("first_acknowledged")
    )
    return (
        select(CASES.c.created_at, first.c.at.label("acknowledged_at"))
        .select_from(CASES.join(first, first.c.case_id == CASES.c.id))
        .where(first.c.at >= start, first.c.at < end)
    )


def _decided_approvals(start: datetime, end: datetime) -> Select[Any]:
    return select(APPROVALS.c.requested_at, APPROVALS.c.settled_at).where(
        APPROVALS.c.state.in_(DECIDED),
        APPROVALS.c.settled_at >= start,
        APPROVALS.c.settled_at < end,
    )


async def _sla_breaches(
    connection: AsyncConnection, start: datetime, end: datetime
) -> dict[str, int]:
    sla = TIMELINE.c.data["sla"].as_string()
    query = (
        select(sla.label("sla"), func.count().label("breaches"))
        .where(
            TIMELINE.c.kind == TimelineKind.SLA_BREACHED.value,
            TIMELINE.c.at >= start,
            TIMELINE.c.at < end,
        )
        .group_by(sla)
    )
    breaches = dict.fromkeys(SLAS, 0)
    for row in await connection.execute(query):
        name = row.sla or "unnamed"
        breaches[name] = breaches.get(name, 0) + int(row.breaches)
    return breaches


def _containments(start: datetime, end: datetime) -> Select[Any]:
    """Applied in `[start, end)`, in force at `end`, and expired in `[start, end)`."""
    applied = ACTIONS.c.applied_at
    reverted = ACTIONS.c.reverted_at
    expires = ACTIONS.c.expires_at

    def count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, 1), else_=0))

    return select(
        count(and_(applied >= start, applied < end)).label("applied"),
        count(
            and_(
                applied < end,
                or_(reverted.is_(None), reverted >= end),
                or_(expires.is_(None), expires > end),
            )
        ).label("active"),
        count(
            and_(
                expires >= start,
                expires < end,
                or_(reverted.is_(None), reverted >= expires),
            )
        ).label("expired"),
    ).where(applied.is_not(None))


async def noisiest_rules(
    connection: AsyncConnection, window: DigestWindow, limit: int
) -> list[RuleCount]:
    """The `limit` rules with the most alerts in the period (ties by name), with their
    alerts in the previous period."""
    rule = func.coalesce(ALERTS.c.rule_name, ALERTS.c.title)
    alerts = func.count().label("alerts")
    top = (
        await connection.execute(
            select(rule.label("rule"), alerts)
            .where(ALERTS.c.time >= window.start, ALERTS.c.time < window.end)
            .group_by(rule)
            .order_by(alerts.desc(), rule)
            .limit(limit)
        )
    ).all()
    if not top:
        return []
    names = [row.rule for row in top]
    before = {
        row.rule: int(row.alerts)
        for row in await connection.execute(
            select(rule.label("rule"), alerts)
            .where(
                ALERTS.c.time >= window.previous_start,
                ALERTS.c.time < window.start,
                rule.in_(names),
            )
            .group_by(rule)
        )
    }
    return [RuleCount(row.rule, int(row.alerts), before.get(row.rule, 0)) for row in top]


async def per_day(connection: AsyncConnection, days: Sequence[DayBucket]) -> list[DayCount]:
    """Alerts and cases opened on each day of `days`."""
    if not days:
        return []
    alerts = await _count_per_day(connection, ALERTS, ALERTS.c.time, days)
    cases = await _count_per_day(connection, CASES, CASES.c.created_at, days)
    return [DayCount(bucket.day, alerts[n], cases[n]) for n, bucket in enumerate(days)]


async def _count_per_day(
    connection: AsyncConnection,
    table: Table,
    column: ColumnElement[datetime],
    days: Sequence[DayBucket],
) -> list[int]:
    """Rows of `table` per day by `column`: each row gets the number of the first day
    that ends after it (in a subquery, so PostgreSQL groups by the column, not by an
    expression it would have to match parameter by parameter)."""
    day_number = case(*((column < bucket.end, n) for n, bucket in enumerate(days)))
    numbered = (
        select(day_number.label("day"))
        .select_from(table)
        .where(column >= days[0].start, column < days[-1].end)
        .subquery("numbered")
    )
    counts = [0] * len(days)
    query = select(numbered.c.day, func.count().label("rows")).group_by(numbered.c.day)
    for row in await connection.execute(query):
        counts[int(row.day)] = int(row.rows)
    return counts

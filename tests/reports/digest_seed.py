"""A seeded case store for the digest tests, and its figures worked out without SQL.

:func:`scenario` draws alerts, cases with their timelines, approvals and containment
actions at random (from a fixed seed) over the period, the one before it and a day on
each side, with points exactly on the boundaries. :func:`seed` writes them through the
store's own writes. :func:`expected_figures` answers every figure from the drawn objects
in plain Python, following the definitions in the README rather than the SQL.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from soar.alerts.models import Alert, Rule, Severity, SeverityInfo, make_alert
from soar.approvals.models import ApprovalRequest, ApprovalState
from soar.cases.models import Case, CaseState, TimelineEvent, TimelineKind
from soar.containment.models import ActionState, ContainmentAction, block_ip
from soar.reports.digest_contract import DigestPeriod
from soar.reports.digest_window import DigestWindow, scheduled_window
from soar.store.repository import Repository

HOSTILE_RULE = (
    "{{ 7*7 }}{% raw %}<script>alert('digest')</script><img src=x onerror=alert(1)>"
    "<!channel> <@U0BOSS> <https://evil.example|click> *bold* `code` &amp; \u202eevil"
)
"""A rule name an attacker chose: template syntax, HTML, Slack mentions and links,
mrkdwn, an entity and a bidirectional override."""
SOURCES = ("suricata", "wazuh", "splunk")
RULES: tuple[str | None, ...] = ("ET SCAN Nmap", "SSH brute force", HOSTILE_RULE, None)
PEOPLE = ("alice", "bob")
BOTS = ("system", "playbook:malicious_ip")
TIMEZONE = "Europe/Paris"
AT = datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
"""Monday morning in Paris, the day after the clocks went forward: the weekly period has
a 23-hour day in it."""


@dataclass
class Scenario:
    """Everything seeded, as domain objects."""

    window: DigestWindow
    alerts: list[Alert] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    events: list[TimelineEvent] = field(default_factory=list)
    approvals: list[ApprovalRequest] = field(default_factory=list)
    actions: list[ContainmentAction] = field(default_factory=list)


def weekly_window() -> DigestWindow:
    return scheduled_window(DigestPeriod.WEEKLY, AT, TIMEZONE)


def scenario(window: DigestWindow | None = None, *, seed: int = 20260330) -> Scenario:
    """A few hundred objects drawn over the window, its previous period and a day around."""
    window = window or weekly_window()
    rng = random.Random(seed)
    low = window.previous_start - timedelta(days=1)
    high = window.end + timedelta(days=1)
    span = (high - low).total_seconds()
    boundaries = [window.previous_start, window.start, window.end]

    def moment() -> datetime:
        if rng.random() < 0.05:
            return rng.choice(boundaries)
        return low + timedelta(seconds=rng.randrange(int(span)))

    drawn = Scenario(window)
    for n in range(260):
        rule = rng.choice(RULES)
        drawn.alerts.append(
            make_alert(
                source=rng.choice(SOURCES),
                native_key=f"alert-{n}",
                title=f"title {n % 3}",
                severity=SeverityInfo(level=rng.choice(list(Severity))),
                time=moment(),
                rule=Rule(name=rule),
            )
        )
    for n in range(60):
        _draw_case(drawn, rng, f"case-{n}", moment())
    for n in range(30):
        _draw_approval(drawn, rng, f"approval-{n}", moment())
    for n in range(30):
        _draw_action(drawn, rng, f"action-{n}", moment())
    return drawn


def _draw_case(drawn: Scenario, rng: random.Random, case_id: str, created: datetime) -> None:
    sequence = iter(range(1, 100))

    def event(kind: str, at: datetime, actor: str, **data: object) -> TimelineEvent:
        entry = TimelineEvent(
            id=f"{case_id}:{next(sequence)}",
            case_id=case_id,
            at=at,
            kind=kind,
            actor=actor,
            summary=kind,
            data=dict(data),
        )
        drawn.events.append(entry)
        return entry

    def later(base: datetime, most_hours: float) -> datetime:
        return base + timedelta(seconds=rng.randrange(1, int(most_hours * 3600)))

    event(TimelineKind.ALERT_ATTACHED, created, "system")
    if rng.random() < 0.6:
        first = later(created, 30)
        event(TimelineKind.ACKNOWLEDGED, first, rng.choice(PEOPLE))
        event(TimelineKind.ACKNOWLEDGED, later(first, 5), rng.choice(PEOPLE))
    if rng.random() < 0.3:
        event(TimelineKind.NOTE, later(created, 40), rng.choice(PEOPLE + BOTS))
    for _ in range(rng.randrange(3)):
        sla = rng.choice(("acknowledge", "decide"))
        event(TimelineKind.SLA_BREACHED, later(created, 48), "system", sla=sla)
    state = rng.choice(list(CaseState))
    changed = [created]
    if state in (CaseState.RESOLVED, CaseState.CLOSED):
        if rng.random() < 0.2:
            event(TimelineKind.STATE_CHANGED, later(created, 10), "system", command_id="c-early")
        closed = later(created, 72)
        if rng.random() < 0.9:
            closer = rng.choice(PEOPLE + BOTS)
            event(TimelineKind.STATE_CHANGED, closed, closer, command_id=f"{case_id}:close")
        else:
            changed.append(closed)  # no command on the timeline: the case's last change
        if rng.random() < 0.3:
            event(TimelineKind.NOTE, later(closed, 5), rng.choice(PEOPLE))
        if rng.random() < 0.3:
            event(TimelineKind.STATE_CHANGED, later(closed, 5), "system")
    changed += [e.at for e in drawn.events if e.case_id == case_id]
    drawn.cases.append(
        Case(
            id=case_id,
            correlation_key=f"ip:{case_id}",
            title=f"Case {case_id}",
            state=state,
            severity=rng.choice(list(Severity)),
            alert_count=1,
            created_at=created,
            updated_at=max(changed),
        )
    )


def _draw_approval(
    drawn: Scenario, rng: random.Random, approval_id: str, requested: datetime
) -> None:
    state = rng.choice(list(ApprovalState))
    settled = (
        requested + timedelta(seconds=rng.randrange(30, 7200))
        if state is not ApprovalState.PENDING
        else None
    )
    drawn.approvals.append(
        ApprovalRequest(
            id=approval_id,
            case_id="case-0",
            workflow_id=f"playbook-{approval_id}",
            playbook="malicious_ip",
            action="deny",
            target="203.0.113.7",
            reason="scanning",
            blast_radius="one address",
            deciders=["alice"],
            requested_by="playbook:malicious_ip",
            requested_at=requested,
            expires_at=requested + timedelta(hours=2),
            state=state,
            settled_at=settled,
            settled_by=None if settled is None else "alice",
        )
    )


def _draw_action(drawn: Scenario, rng: random.Random, action_id: str, created: datetime) -> None:
    applied = created if rng.random() < 0.8 else None
    ttl = rng.choice((None, 1800, 3600 * 6, 86400 * 3))
    expires = applied + timedelta(seconds=ttl) if applied and ttl else None
    reverted: datetime | None = None
    if applied is not None:
        ending = rng.random()
        if expires is not None and ending < 0.5:
            reverted = expires + timedelta(seconds=rng.randrange(0, 5))
        elif ending < 0.7:
            reverted = applied + timedelta(seconds=rng.randrange(60, 3600))
    state = (
        ActionState.REFUSED
        if applied is None
        else ActionState.REVERTED
        if reverted
        else ActionState.VERIFIED
    )
    drawn.actions.append(
        ContainmentAction(
            id=action_id,
            case_id="case-0",
            command=block_ip("203.0.113.7", ttl),
            state=state,
            created_at=created,
            applied_at=applied,
            reverted_at=reverted,
            expires_at=expires,
        )
    )


async def seed(store: Repository, drawn: Scenario) -> None:
    """Write everything through the store's own writes."""
    for alert in drawn.alerts:
        await store.upsert_alert(alert)
    for case in drawn.cases:
        await store.upsert_case(case)
    for event in drawn.events:
        await store.add_timeline_event(event)
    for approval in drawn.approvals:
        await store.upsert_approval(approval)
    for action in drawn.actions:
        await store.upsert_action(action)


# The figures, worked out in Python


def _inside(at: datetime | None, start: datetime, end: datetime) -> bool:
    return at is not None and start <= at < end


def _mean_median(values: list[float]) -> tuple[int, float | None, float | None]:
    if not values:
        return 0, None, None
    return len(values), statistics.fmean(values), statistics.median(values)


def _is_person(actor: str) -> bool:
    return actor != "system" and not actor.startswith("playbook:")


def resolution_of(drawn: Scenario, case: Case) -> datetime | None:
    """When a resolved or closed case was resolved: its last commanded state change."""
    if case.state not in (CaseState.RESOLVED, CaseState.CLOSED):
        return None
    commanded = [
        e.at
        for e in drawn.events
        if e.case_id == case.id and e.kind == TimelineKind.STATE_CHANGED and "command_id" in e.data
    ]
    return max(commanded) if commanded else case.updated_at


def expected_period(drawn: Scenario, start: datetime, end: datetime) -> dict[str, object]:
    """Every figure of `[start, end)`, by the definitions."""
    alerts = [a for a in drawn.alerts if _inside(a.time, start, end)]
    by_source: dict[str, dict[str, int]] = defaultdict(dict)
    for (source, level), count in Counter(
        (a.source, a.severity.level.value) for a in alerts
    ).items():
        by_source[source][level] = count
    resolved = [
        (case, at) for case in drawn.cases if _inside(at := resolution_of(drawn, case), start, end)
    ]
    automated = [
        case
        for case, at in resolved
        if not any(
            e.case_id == case.id and e.at <= at and _is_person(e.actor) for e in drawn.events
        )
    ]
    first_acks = {}
    for e in drawn.events:
        if e.kind == TimelineKind.ACKNOWLEDGED:
            first_acks[e.case_id] = min(e.at, first_acks.get(e.case_id, e.at))
    created = {case.id: case.created_at for case in drawn.cases}
    acknowledged = [
        (at - created[case_id]).total_seconds()
        for case_id, at in first_acks.items()
        if _inside(at, start, end)
    ]
    decided = [
        (a.settled_at - a.requested_at).total_seconds()
        for a in drawn.approvals
        if a.state in (ApprovalState.APPROVED, ApprovalState.DENIED)
        and a.settled_at is not None
        and _inside(a.settled_at, start, end)
    ]
    breaches = Counter(
        str(e.data["sla"])
        for e in drawn.events
        if e.kind == TimelineKind.SLA_BREACHED and _inside(e.at, start, end)
    )
    applied = [a for a in drawn.actions if a.applied_at is not None]
    return {
        "alerts": len(alerts),
        "alerts_by_source": dict(by_source),
        "cases_opened": sum(1 for case in drawn.cases if _inside(case.created_at, start, end)),
        "cases_resolved": len(resolved),
        "cases_automated": len(automated),
        "acknowledge": _mean_median(acknowledged),
        "resolve": _mean_median([(at - case.created_at).total_seconds() for case, at in resolved]),
        "decide": _mean_median(decided),
        "approvals_expired": sum(
            1
            for a in drawn.approvals
            if a.state is ApprovalState.EXPIRED and _inside(a.settled_at, start, end)
        ),
        "sla_breaches": {"acknowledge": 0, "decide": 0, **breaches},
        "containments_applied": sum(1 for a in applied if _inside(a.applied_at, start, end)),
        "containments_active": sum(
            1
            for a in applied
            if a.applied_at is not None
            and a.applied_at < end
            and (a.reverted_at is None or a.reverted_at >= end)
            and (a.expires_at is None or a.expires_at > end)
        ),
        "containments_expired": sum(
            1
            for a in applied
            if a.expires_at is not None
            and _inside(a.expires_at, start, end)
            and (a.reverted_at is None or a.reverted_at >= a.expires_at)
        ),
    }


def rule_of(alert: Alert) -> str:
    return alert.rule.name if alert.rule.name is not None else alert.title


def expected_rules(drawn: Scenario, limit: int = 5) -> list[tuple[str, int, int]]:
    """The noisiest rules of the period: (rule, alerts, alerts in the previous period)."""
    window = drawn.window
    now = Counter(rule_of(a) for a in drawn.alerts if _inside(a.time, window.start, window.end))
    before = Counter(
        rule_of(a) for a in drawn.alerts if _inside(a.time, window.previous_start, window.start)
    )
    ranked = sorted(now.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [(rule, count, before[rule]) for rule, count in ranked]


def expected_days(drawn: Scenario) -> list[tuple[str, int, int]]:
    """(ISO day in the time zone, alerts, cases opened) for each day of the chart."""
    zone = drawn.window.zone
    buckets = drawn.window.days()
    first, last = buckets[0].start, buckets[-1].end
    alerts = Counter(
        a.time.astimezone(zone).date() for a in drawn.alerts if _inside(a.time, first, last)
    )
    cases = Counter(
        c.created_at.astimezone(zone).date()
        for c in drawn.cases
        if _inside(c.created_at, first, last)
    )
    return [(b.day.isoformat(), alerts[b.day], cases[b.day]) for b in buckets]

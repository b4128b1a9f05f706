"""The case report's context, gathered from a real store (SQLite, and PostgreSQL when
SOAR_TEST_DATABASE_URL is set) and a real inventory file: the figures every summary
shows, whatever its kind and format."""

from __future__ import annotations

from pathlib import Path

import pytest

from soar.cases.models import CaseState, Resolution, TimelineKind
from soar.containment.models import ActionState
from soar.enrichment.inventory import Inventory, load_inventory
from soar.enrichment.models import Criticality, ObservableVerdict, TriageSummary, Verdict
from soar.errors import NotFoundError
from soar.reports.case_report import MAX_TIMELINE, gather_case_report
from soar.store.db import Store
from tests.conftest import unique
from tests.reports.seed import ATTACKER, LAPTOP, VICTIM, inventory_file, seed_case
from tests.store import conftest as stores
from tests.store import factories
from tests.store.factories import at

NOW = at(40)

empty_store = stores.empty_store
"""A fresh store per test: SQLite, and PostgreSQL when SOAR_TEST_DATABASE_URL is set."""
store = stores.store


async def test_the_seeded_case_reads_as_its_figures(store: Store, tmp_path: Path) -> None:
    seeded = await seed_case(store)
    inventory = load_inventory(inventory_file(tmp_path))

    report = await gather_case_report(store, seeded.case_id, inventory=inventory, now=NOW)

    assert (report.case_id, report.title, report.state) == (
        seeded.case_id,
        seeded.title,
        "waiting for a decision",
    )
    assert report.open and report.alert_count == 3 and report.rules == [seeded.rule]
    assert report.description == f"Failed SSH logins from {ATTACKER} against {LAPTOP}, then 2"
    assert [(a.name, a.criticality, a.owner) for a in report.assets] == [
        (LAPTOP, Criticality.CRITICAL, VICTIM)
    ]
    assert [(u.name, u.vip, u.team) for u in report.users] == [(VICTIM, True, "finance")]
    assert (report.findings[0].value, report.findings[0].verdict) == (ATTACKER, Verdict.MALICIOUS)
    assert report.findings[0].reason == "reported 523 times by 97 users"

    in_effect = report.actions_in_effect
    assert [(a.verb, a.target, a.expires_at) for a in in_effect] == [("block", ATTACKER, at(67))]
    failed = next(a for a in report.actions if not a.in_effect)
    assert (failed.verb, failed.state, failed.actuators) == ("isolate", "failed", ["crowdstrike"])

    decided, pending = report.approvals
    assert (decided.state, decided.settled_by) == ("approved", "carol")
    assert [(d.user, d.decision, d.reason) for d in decided.decisions] == [
        ("carol", "approve", "clearly hostile")
    ]
    assert pending.pending and pending.deciders == ["group:soc-leads"]

    assert report.assignee == "alice"
    assert report.escalation.acknowledged_by == "bob"
    assert report.escalation.summary == "stopped: acknowledged by bob"
    assert (report.escalation.policy, report.escalation.acknowledged_at) == ("critical-15m", at(17))
    assert [(s.level, s.target, s.outcome) for s in report.escalation.steps] == [
        ("oncall", "page:soc-oncall", "paged")
    ]
    assert [(b.sla, b.due) for b in report.escalation.breaches] == [
        ("acknowledge", "2025-03-01T12:15:00Z")
    ]
    assert [(t.system, t.key, t.url) for t in report.tickets] == [
        ("jira", seeded.ticket_key, seeded.ticket_url)
    ]

    assert report.next_steps[0].startswith(f"group:soc-leads to decide whether to contain {LAPTOP}")
    assert f"Block {ATTACKER} lapses 2025-03-01 13:07 UTC" in report.next_steps[1]
    assert any("isolate fin-laptop-07" in step for step in report.next_steps)
    assert f"Critical host {LAPTOP} is involved, owned by {VICTIM}" in report.open_risks
    assert f"VIP user {VICTIM} is involved" in report.open_risks
    assert any(risk.startswith("Isolate fin-laptop-07 failed") for risk in report.open_risks)
    assert not any(ATTACKER in risk for risk in report.open_risks)  # the block contains it


async def test_what_happened_says_it_in_plain_words(store: Store, tmp_path: Path) -> None:
    seeded = await seed_case(store)
    report = await gather_case_report(
        store, seeded.case_id, inventory=load_inventory(inventory_file(tmp_path)), now=NOW
    )
    assert report.what_happened == (
        "3 alerts from suricata since 2025-03-01 12:00 UTC, the last at 2025-03-01 12:30 UTC, "
        f"on {seeded.rule}. It involves {ATTACKER} (source), {LAPTOP} (host), {VICTIM} "
        "(target). Triage judged the latest alert malicious (80/100): public source address, "
        "bad. The case is high severity and waiting for a decision, assigned to alice. "
        f"1 containment in effect: block {ATTACKER}."
    )


async def test_without_an_inventory_hosts_and_users_are_named_as_unknown(store: Store) -> None:
    seeded = await seed_case(store)
    report = await gather_case_report(store, seeded.case_id, inventory=Inventory(), now=NOW)
    assert [(a.name, a.in_inventory, a.criticality) for a in report.assets] == [
        (LAPTOP, False, None)
    ]
    assert [(u.name, u.in_inventory, u.vip) for u in report.users] == [(VICTIM, False, False)]
    assert not any("involved" in risk for risk in report.open_risks)


async def test_a_malicious_address_nobody_contained_is_an_open_risk(store: Store) -> None:
    case_id = f"case-{unique()}"
    alert = factories.alert(f"{case_id}-a")
    await store.upsert_alert(alert)
    await store.upsert_case(factories.case(case_id, state=CaseState.TRIAGED))
    verdict = ObservableVerdict(
        observable=alert.observables[0], verdict=Verdict.MALICIOUS, score=90, by=["otx"]
    )
    triage = TriageSummary(score=70, verdict=Verdict.MALICIOUS, observables=[verdict])
    case = factories.case(case_id, state=CaseState.TRIAGED, updated_at=at(5))
    await store.record_case_changes(case, [], [alert.id], {alert.id: triage})
    failed = factories.action(
        f"{case_id}-x", case_id, state=ActionState.REFUSED, detail="a gateway"
    )
    await store.upsert_action(failed)

    report = await gather_case_report(store, case_id, inventory=Inventory(), now=NOW)

    assert f"{ATTACKER} is judged malicious (90/100) and is not contained" in report.open_risks
    assert f"Block {ATTACKER} refused: a gateway" in report.open_risks
    assert "Assign an owner: nobody is assigned" in report.next_steps
    assert not any("retry" in step for step in report.next_steps)  # a refusal stands


async def test_a_closed_case_with_nothing_in_effect_needs_nothing(store: Store) -> None:
    case_id = f"case-{unique()}"
    await store.upsert_case(
        factories.case(case_id, state=CaseState.CLOSED, resolution=Resolution.FALSE_POSITIVE)
    )
    report = await gather_case_report(store, case_id, inventory=Inventory(), now=NOW)
    assert (report.open, report.resolution, report.state) == (False, "false positive", "closed")
    assert report.next_steps == [] and report.open_risks == []
    assert report.escalation.summary == "not escalated"
    assert "closed as false positive, with no one assigned" in report.what_happened


async def test_the_timeline_keeps_what_is_worth_reading(store: Store) -> None:
    case_id = f"case-{unique()}"
    await store.upsert_case(factories.case(case_id))
    attached = [
        factories.event(f"{case_id}-a{n:03}", case_id, minutes=n, kind=TimelineKind.ALERT_ATTACHED)
        for n in range(100)
    ]
    notes = [
        factories.event(f"{case_id}-n{n:03}", case_id, minutes=100 + n, summary=f"note {n}")
        for n in range(MAX_TIMELINE + 5)
    ]
    for event in attached + notes:
        await store.add_timeline_event(event)

    report = await gather_case_report(store, case_id, inventory=Inventory(), now=NOW)

    assert [entry.summary for entry in report.timeline] == [
        f"note {n}" for n in range(5, MAX_TIMELINE + 5)
    ]
    assert report.timeline_left_out == 100 + 5


async def test_an_unknown_case_is_named(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no case with id 'case-nope'"):
        await gather_case_report(store, " case-nope ", inventory=Inventory(), now=NOW)


async def test_a_level_firing_after_a_stop_is_where_escalation_stands(store: Store) -> None:
    case_id = f"case-{unique()}"
    await store.upsert_case(factories.case(case_id, escalation_policy="high-1h"))
    level = {"kind": TimelineKind.ESCALATION_LEVEL, "summary": "Escalated"}
    events = [
        factories.event(f"{case_id}-1", case_id, minutes=1, data={"level": "oncall"}, **level),
        factories.event(
            f"{case_id}-2",
            case_id,
            minutes=2,
            kind=TimelineKind.ESCALATION_STOPPED,
            summary="Escalation stopped: decided",
        ),
        factories.event(
            f"{case_id}-3",
            case_id,
            minutes=3,
            kind=TimelineKind.TICKET_OPENED,
            summary="Ticket asked for in jira",
            data={"system": "jira"},
        ),
        factories.event(
            f"{case_id}-4",
            case_id,
            minutes=4,
            data={
                "level": "management",
                "targets": ["channel:#soc-mgmt", "group:leads"],
                "outcome": ["announced", "jira: SEC-9"],
            },
            **level,
        ),
    ]
    for event in events:
        await store.add_timeline_event(event)

    report = await gather_case_report(store, case_id, inventory=Inventory(), now=NOW)

    assert report.escalation.stopped is None
    assert report.escalation.summary == (
        "at level management (channel:#soc-mgmt; group:leads), not acknowledged"
    )
    assert report.escalation.steps[-1].outcome == "announced; jira: SEC-9"
    assert report.escalation.policy == "high-1h"
    assert report.tickets == []  # asked for, not opened yet
    assert "Acknowledge the case to stop the escalation" in report.next_steps

"""Cases: snapshots, observables, timeline, listing filters and the full detail."""

from __future__ import annotations

from soar.alerts.models import Observable, ObservableRole, ObservableType, Severity
from soar.approvals.models import ApprovalState, Decision, DecisionKind
from soar.cases.models import Case, CaseState, Resolution, TimelineKind
from soar.containment.models import ActionState
from soar.enrichment.models import TriageSummary, Verdict
from soar.store.db import Store

from . import factories


async def test_upsert_case_twice_keeps_one_row_with_the_latest_values(store: Store) -> None:
    await store.upsert_case(factories.case())
    await store.upsert_case(factories.case())
    later = factories.case(
        state=CaseState.RESOLVED,
        resolution=Resolution.FALSE_POSITIVE,
        severity=Severity.LOW,
        assignee="alice",
        alert_count=3,
        escalated=True,
        tags=["scan", "noise"],
        updated_at=factories.at(30),
    )
    await store.upsert_case(later)
    assert len(await store.list_cases()) == 1
    detail = await store.get_case_detail("case-1")
    assert detail is not None
    assert Case.model_validate(detail.model_dump(include=set(Case.model_fields))) == later


async def test_an_older_snapshot_does_not_overwrite_a_newer_one(store: Store) -> None:
    await store.upsert_case(factories.case(state=CaseState.CONTAINED, updated_at=factories.at(9)))
    await store.upsert_case(factories.case(state=CaseState.NEW, updated_at=factories.at(1)))
    [summary] = await store.list_cases()
    assert summary.state is CaseState.CONTAINED


async def test_case_observables_accumulate_without_duplicates(store: Store) -> None:
    ip = Observable(type=ObservableType.IP, value="203.0.113.7", role=ObservableRole.SOURCE)
    host = Observable(type=ObservableType.HOSTNAME, value="web-1", role=ObservableRole.HOST)
    await store.upsert_case(factories.case(observables=[ip, ip]))
    await store.upsert_case(factories.case(observables=[ip, host], updated_at=factories.at(5)))
    detail = await store.get_case_detail("case-1")
    assert detail is not None
    assert detail.observables == [host, ip]


async def test_timeline_is_ordered_by_time_then_id_and_recorded_once(store: Store) -> None:
    await store.upsert_case(factories.case())
    events = [
        factories.event("e3", minutes=2),
        factories.event("e2", minutes=1),
        factories.event("e1b", minutes=1),
        factories.event("e0", minutes=0, kind=TimelineKind.ALERT_ATTACHED, data={"n": 1}),
        factories.event("other-case", case_id="case-2", minutes=0),
    ]
    for event in events:
        await store.add_timeline_event(event)
    await store.add_timeline_event(factories.event("e3", minutes=2, summary="rewritten"))

    detail = await store.get_case_detail("case-1")
    assert detail is not None
    assert [e.id for e in detail.timeline] == ["e0", "e1b", "e2", "e3"]
    assert detail.timeline[0] == events[3]
    assert detail.timeline[-1].summary == "event e3"


async def test_list_cases_filters_by_state_severity_and_assignee(store: Store) -> None:
    cases = [
        factories.case(
            "c1", state=CaseState.NEW, severity=Severity.HIGH, updated_at=factories.at(1)
        ),
        factories.case(
            "c2",
            state=CaseState.AWAITING_DECISION,
            severity=Severity.CRITICAL,
            assignee="alice",
            updated_at=factories.at(2),
        ),
        factories.case(
            "c3",
            state=CaseState.NEW,
            severity=Severity.LOW,
            assignee="bob",
            updated_at=factories.at(3),
        ),
        factories.case(
            "c4",
            state=CaseState.NEW,
            severity=Severity.HIGH,
            assignee="alice",
            updated_at=factories.at(4),
        ),
    ]
    for case in cases:
        await store.upsert_case(case)

    async def ids(**filters: object) -> list[str]:
        return [c.id for c in await store.list_cases(**filters)]  # type: ignore[arg-type]

    assert await ids() == ["c4", "c3", "c2", "c1"]
    assert await ids(state=CaseState.NEW) == ["c4", "c3", "c1"]
    assert await ids(severity=Severity.HIGH) == ["c4", "c1"]
    assert await ids(assignee="alice") == ["c4", "c2"]
    assert await ids(state=CaseState.NEW, severity=Severity.HIGH, assignee="alice") == ["c4"]
    assert await ids(limit=2, offset=1) == ["c3", "c2"]
    [summary] = await store.list_cases(state=CaseState.AWAITING_DECISION)
    assert (summary.correlation_key, summary.alert_count) == ("ip:c2", 1)


async def test_case_detail_has_alerts_observables_timeline_approvals_and_actions(
    store: Store,
) -> None:
    case = factories.case(alert_count=2)
    first, second = factories.alert("a1", minutes=0), factories.alert("a2", minutes=5)
    stray = factories.alert("a3")
    decision = Decision(
        approval_id="appr-1", decision=DecisionKind.APPROVE, user="alice", at=factories.at(4)
    )
    approval = factories.approval(
        state=ApprovalState.APPROVED,
        decisions=[decision],
        settled_at=factories.at(4),
        settled_by="alice",
    )
    action = factories.action(
        state=ActionState.APPLIED, actuator="pfsense", applied_at=factories.at(5)
    )

    await store.upsert_case(case)
    await store.upsert_alert(first, case_id=case.id)
    await store.upsert_alert(second)
    await store.attach_alert(second.id, case.id)
    await store.upsert_alert(stray)
    await store.add_timeline_event(factories.event("e1"))
    await store.upsert_approval(approval)
    await store.upsert_action(action)

    detail = await store.get_case_detail(case.id)
    assert detail is not None
    assert (detail.id, detail.correlation_key, detail.alert_count) == (
        case.id,
        case.correlation_key,
        2,
    )
    assert [a.id for a in detail.alerts] == [second.id, first.id]
    assert detail.alert_ids == [second.id, first.id]
    assert detail.alerts[0].title == second.title and detail.alerts[0].case_id == case.id
    assert detail.observables == case.observables
    assert [e.id for e in detail.timeline] == ["e1"]
    assert detail.approvals == [approval]
    assert detail.actions == [action]

    limited = await store.get_case_detail(case.id, alert_limit=1)
    assert limited is not None
    assert [a.id for a in limited.alerts] == [second.id]


async def test_case_detail_of_an_unknown_case_is_none(store: Store) -> None:
    assert await store.get_case_detail("nope") is None


async def test_a_batch_records_each_alerts_triage_with_it(store: Store) -> None:
    first, second = factories.alert("a-1"), factories.alert("a-2")
    await store.upsert_alert(first)
    await store.upsert_alert(second)
    triage = TriageSummary(score=85, verdict=Verdict.MALICIOUS, reasons=["listed C2", "VIP"])
    missing = await store.record_case_changes(
        factories.case(alert_count=2), [], [first.id, second.id], {first.id: triage}
    )
    assert missing == []
    detail = await store.get_case_detail("case-1")
    assert detail is not None
    by_id = {a.id: a.triage for a in detail.alerts}
    assert by_id == {first.id: triage, second.id: None}

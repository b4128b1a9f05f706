"""What merging and splitting do to a case, without a server: the reducer's `merge_away`,
`take_in`, `split_off` and `kept_observables`."""

from __future__ import annotations

from datetime import UTC, datetime

from soar.alerts.models import Observable, ObservableRole, ObservableType, Severity
from soar.cases.contract import AttachAlert, split_command_id, split_key
from soar.cases.models import CaseCommand, CaseCommandKind, CaseState, TimelineKind
from soar.cases.reducer import (
    MAX_OBSERVABLES,
    apply_command,
    kept_observables,
    merge_away,
    split_off,
    take_in,
)
from tests.store import factories

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def ip(value: str) -> Observable:
    return Observable(type=ObservableType.IP, value=value, role=ObservableRole.SOURCE)


def command(kind: CaseCommandKind, **data: object) -> CaseCommand:
    return CaseCommand(id=f"cmd-{kind.value}", kind=kind, actor="alice", text="why", data=data)


def test_the_merged_case_closes_pointing_at_the_survivor_and_holds_no_alerts() -> None:
    case = factories.case("case-a", alert_count=4, alert_ids=["a1", "a2"])

    after, entry = merge_away(case, "case-b", command(CaseCommandKind.MERGE), NOW)

    assert (after.state, after.merged_into, after.alert_count, after.alert_ids) == (
        CaseState.CLOSED,
        "case-b",
        0,
        [],
    )
    assert after.updated_at == NOW
    assert (entry.kind, entry.actor, entry.reason) == (TimelineKind.CASE_MERGED, "alice", "why")
    assert entry.summary == "Merged into case case-b: 4 alert(s) moved there"
    assert entry.data == {"merged_into": "case-b", "alerts": 4, "command_id": "cmd-merge"}


def test_the_survivor_counts_the_merged_alerts_and_takes_observables_tags_and_severity() -> None:
    survivor = factories.case(
        "case-b",
        alert_count=2,
        alert_ids=["b1", "b2"],
        severity=Severity.LOW,
        observables=[ip("45.0.0.1")],
        tags=["scan"],
    )
    merged = factories.case(
        "case-a",
        alert_count=3,
        alert_ids=["a1"],
        severity=Severity.CRITICAL,
        observables=[ip("45.0.0.1"), ip("45.0.0.2")],
        tags=["scan", "ransomware"],
    )

    after, entry = take_in(
        survivor, merged, command(CaseCommandKind.MERGE_IN), severity_pinned=False
    )
    pinned, _ = take_in(survivor, merged, command(CaseCommandKind.MERGE_IN), severity_pinned=True)

    assert (after.alert_count, after.alert_ids) == (5, ["b1", "b2", "a1"])
    assert [o.value for o in after.observables] == ["45.0.0.1", "45.0.0.2"]
    assert after.tags == ["scan", "ransomware"]
    assert (after.severity, pinned.severity) == (Severity.CRITICAL, Severity.LOW)
    assert entry.data == {"merged_case": "case-a", "alerts": 3, "command_id": "cmd-merge_in"}
    assert entry.summary.startswith("Case case-a merged in: 3 alert(s)")


def test_taking_in_keeps_at_most_the_observables_a_case_may_hold() -> None:
    survivor = factories.case(observables=[ip(f"45.1.0.{n}") for n in range(MAX_OBSERVABLES)])
    merged = factories.case("case-a", observables=[ip("45.2.0.1")])
    after, _ = take_in(survivor, merged, command(CaseCommandKind.MERGE_IN), severity_pinned=False)
    assert len(after.observables) == MAX_OBSERVABLES
    assert "45.2.0.1" not in {o.value for o in after.observables}


def test_a_split_counts_the_alerts_out_and_keeps_the_observables_given() -> None:
    case = factories.case(alert_count=5, alert_ids=["a1", "a2", "a3"])
    kept = [ip("45.0.0.9")]

    after, entry = split_off(
        case, ["a2", "a4"], "case-new", command(CaseCommandKind.SPLIT), observables=kept
    )

    assert (after.alert_count, after.alert_ids, after.observables) == (3, ["a1", "a3"], kept)
    assert entry.kind == TimelineKind.CASE_SPLIT
    assert entry.summary == "2 alert(s) split into case case-new"
    assert entry.data["split_into"] == "case-new" and entry.data["alert_ids"] == ["a2", "a4"]


def test_the_case_keeps_observables_no_leaving_alert_holds_or_a_staying_one_holds() -> None:
    shared, leaving_only, own, stored = (
        ip("45.0.0.1"),
        ip("45.0.0.2"),
        ip("45.0.0.3"),
        ip("45.0.0.4"),
    )
    case = factories.case(observables=[shared, leaving_only, own])
    moved = [AttachAlert(alert=factories.alert("x", observables=[shared, leaving_only]))]

    assert kept_observables(case, moved, [shared, stored]) == [shared, own, stored]
    assert kept_observables(case, moved, []) == [own]


def test_merge_and_split_commands_change_nothing_by_themselves() -> None:
    case = factories.case()
    for kind in (CaseCommandKind.MERGE, CaseCommandKind.MERGE_IN, CaseCommandKind.SPLIT):
        change = apply_command(case, command(kind), NOW)
        assert (change.case, change.entry) == (case, None)


def test_a_split_is_named_by_its_case_and_alerts_whatever_their_order() -> None:
    first = split_command_id("case-a", ["a2", "a1", "a1"])
    assert first == split_command_id("case-a", ["a1", "a2"])
    assert first != split_command_id("case-b", ["a1", "a2"])
    assert split_key("case-a", first).startswith("split:case-a:")
    assert split_key("case-a", first) != split_key("case-a", split_command_id("case-a", ["a1"]))

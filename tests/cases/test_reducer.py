"""How alerts and commands change a case, without a server: the pure reducer the case
workflow applies."""

from __future__ import annotations

from datetime import UTC, datetime

from soar.alerts.models import Observable, ObservableRole, ObservableType, Severity
from soar.cases.contract import AttachAlert
from soar.cases.models import CaseCommand, CaseCommandKind, CaseState, Resolution, TimelineKind
from soar.cases.reducer import MAX_OBSERVABLES, Entry, apply_command, attach_alert
from soar.enrichment.models import Triage, Verdict
from tests.store import factories

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def command(kind: CaseCommandKind, **fields: object) -> CaseCommand:
    return CaseCommand.model_validate(
        {"id": f"cmd-{kind.value}", "kind": kind, "actor": "alice", **fields}
    )


def test_an_alert_is_counted_merges_new_observables_and_triages_a_new_case() -> None:
    case = factories.case(state=CaseState.NEW, severity=Severity.LOW)
    alert = factories.alert("a2", severity=Severity.LOW)
    triage = Triage(alert_id=alert.id, score=80, verdict=Verdict.MALICIOUS, reasons=["bad"])

    change = attach_alert(case, AttachAlert(alert=alert, triage=triage), severity_pinned=False)

    assert change.case.alert_count == case.alert_count + 1
    assert change.case.alert_ids[-1] == alert.id
    assert [(o.type, o.value) for o in change.case.observables] == [
        (ObservableType.IP, "203.0.113.7"),
        (ObservableType.HOSTNAME, "web-1"),
    ]
    assert change.case.state is CaseState.TRIAGED
    assert change.severity_raised is None
    assert change.attached == Entry(
        TimelineKind.ALERT_ATTACHED,
        "system",
        "Alert attached: alert a2",
        reason="triage score 80 (malicious): bad",
        data={"alert_id": alert.id, "source": "suricata", "severity": "low"},
    )


def test_a_worse_alert_raises_the_severity_unless_a_person_set_it() -> None:
    case = factories.case(severity=Severity.LOW)
    alert = factories.alert("a3", severity=Severity.CRITICAL)

    raised = attach_alert(case, AttachAlert(alert=alert), severity_pinned=False)
    pinned = attach_alert(case, AttachAlert(alert=alert), severity_pinned=True)

    assert raised.case.severity is Severity.CRITICAL
    assert raised.severity_raised is not None
    assert raised.severity_raised.summary == "Severity low → critical"
    assert raised.severity_raised.reason == f"raised by alert {alert.id}"
    assert (pinned.case.severity, pinned.severity_raised) == (Severity.LOW, None)


def test_observables_stop_at_the_cap() -> None:
    full = [
        Observable(
            type=ObservableType.DOMAIN, value=f"d{n}.example.com", role=ObservableRole.RELATED
        )
        for n in range(MAX_OBSERVABLES)
    ]
    case = factories.case(observables=full)
    change = attach_alert(case, AttachAlert(alert=factories.alert("a4")), severity_pinned=False)
    assert change.case.observables == full


def test_each_command_kind() -> None:
    case = factories.case(severity=Severity.HIGH, state=CaseState.TRIAGED)

    assigned = apply_command(case, command(CaseCommandKind.ASSIGN, assignee="bob"), NOW)
    severity = apply_command(
        case, command(CaseCommandKind.SET_SEVERITY, severity=Severity.LOW), NOW
    )
    state = apply_command(case, command(CaseCommandKind.SET_STATE, state=CaseState.CONTAINED), NOW)
    escalated = apply_command(case, command(CaseCommandKind.ESCALATE, text="need a lead"), NOW)
    closed = apply_command(
        case, command(CaseCommandKind.CLOSE, resolution=Resolution.BENIGN, text="scanner"), NOW
    )
    noted = apply_command(case, command(CaseCommandKind.NOTE, text="seen before"), NOW)

    assert assigned.case.assignee == "bob"
    assert assigned.entry == Entry(
        TimelineKind.ASSIGNED, "alice", "Assigned to bob", data={"command_id": "cmd-assign"}
    )
    assert (severity.case.severity, severity.pins_severity) == (Severity.LOW, True)
    assert severity.entry is not None and severity.entry.summary == "Severity high → low"
    assert state.case.state is CaseState.CONTAINED
    assert state.entry is not None and state.entry.summary == "State triaged → contained"
    assert (escalated.case.escalated, escalated.escalates) == (True, True)
    assert escalated.entry is not None and escalated.entry.reason == "need a lead"
    assert (closed.case.state, closed.case.resolution, closed.closes) == (
        CaseState.CLOSED,
        Resolution.BENIGN,
        True,
    )
    assert closed.entry is not None and closed.entry.summary == "Closed as benign"
    assert noted.case == case
    assert noted.entry is not None
    assert (noted.entry.kind, noted.entry.summary, noted.entry.reason) == (
        TimelineKind.NOTE,
        "seen before",
        None,
    )


def test_commands_that_change_nothing_make_no_entry() -> None:
    case = factories.case()
    for empty in (
        command(CaseCommandKind.SET_SEVERITY),
        command(CaseCommandKind.SET_STATE),
        command(CaseCommandKind.SET_STATE, state=CaseState.CLOSED),
    ):
        change = apply_command(case, empty, NOW)
        assert (change.case, change.entry) == (case, None)


def test_the_first_acknowledgement_counts_and_a_second_changes_nothing() -> None:
    case = factories.case()
    acknowledged = apply_command(case, command(CaseCommandKind.ACKNOWLEDGE), NOW)
    assert acknowledged.acknowledges
    assert (acknowledged.case.acknowledged_by, acknowledged.case.acknowledged_at) == ("alice", NOW)
    assert acknowledged.entry == Entry(
        TimelineKind.ACKNOWLEDGED,
        "alice",
        "Acknowledged by alice",
        data={"command_id": "cmd-acknowledge"},
    )
    again = apply_command(acknowledged.case, command(CaseCommandKind.ACKNOWLEDGE), NOW)
    assert (again.case, again.entry, again.acknowledges) == (acknowledged.case, None, False)

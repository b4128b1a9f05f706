"""How an alert or a command changes a case: pure functions, tested without a server.

The case workflow (`workflows/case.py`) orchestrates — it batches what arrives, numbers
and times the timeline entries, records them, and carries out what a change asks for
(cancel playbooks on close, notify on escalation). What the case becomes is decided
here, from the case and the input alone, so the rules can be read and tested in one
place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from soar.cases.contract import AttachAlert
from soar.cases.models import (
    Case,
    CaseCommand,
    CaseCommandKind,
    CaseState,
    TimelineKind,
    describe_command,
)

MAX_OBSERVABLES = 200
MAX_RECENT_ALERT_IDS = 50
MAX_REASONS_SHOWN = 5


@dataclass(frozen=True)
class Entry:
    """A timeline entry before the workflow numbers and times it."""

    kind: str
    actor: str
    summary: str
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attached:
    """The case with an alert counted on it. `severity_raised` is the entry of a raise
    the alert caused; it comes before `attached` on the timeline."""

    case: Case
    attached: Entry
    severity_raised: Entry | None = None


@dataclass(frozen=True)
class Applied:
    """The case after a command, its entry (None when the command changes nothing), and
    what the workflow must do about it."""

    case: Case
    entry: Entry | None
    pins_severity: bool = False
    escalates: bool = False
    closes: bool = False
    acknowledges: bool = False
    ticket: str | None = None
    """The ticket system a `ticket` command asks for (the workflow opens it)."""


def attach_alert(case: Case, attach: AttachAlert, *, severity_pinned: bool) -> Attached:
    """Count the alert on the case, merge its observables (up to MAX_OBSERVABLES) and let
    it raise the severity, unless a person set the severity."""
    alert = attach.alert
    observables = list(case.observables)
    known = {(o.type, o.value) for o in observables}
    for observable in alert.observables:
        if len(observables) < MAX_OBSERVABLES and (observable.type, observable.value) not in known:
            observables.append(observable)
            known.add((observable.type, observable.value))
    severity = case.severity
    if not severity_pinned and alert.severity.level.rank > severity.rank:
        severity = alert.severity.level
    changed = case.model_copy(
        update={
            "alert_count": case.alert_count + 1,
            "alert_ids": [*case.alert_ids, alert.id][-MAX_RECENT_ALERT_IDS:],
            "observables": observables,
            "severity": severity,
            "state": CaseState.TRIAGED if case.state is CaseState.NEW else case.state,
        }
    )
    raised = (
        Entry(
            TimelineKind.SEVERITY_CHANGED,
            "system",
            f"Severity {case.severity.value} → {severity.value}",
            reason=f"raised by alert {alert.id}",
            data={"alert_id": alert.id},
        )
        if severity is not case.severity
        else None
    )
    triage = attach.triage
    attached = Entry(
        TimelineKind.ALERT_ATTACHED,
        "system",
        f"Alert attached: {alert.title}",
        reason=(
            f"triage score {triage.score} ({triage.verdict.value}): "
            + "; ".join(triage.reasons[:MAX_REASONS_SHOWN])
            if triage
            else None
        ),
        data={
            "alert_id": alert.id,
            "source": alert.source,
            "severity": alert.severity.level.value,
        },
    )
    return Attached(case=changed, attached=attached, severity_raised=raised)


def apply_command(case: Case, command: CaseCommand, at: datetime) -> Applied:
    """What one command does to the case at `at`. A severity or state change without a
    value, a `set_state` to closed (closing takes a `close`, with its resolution), and
    acknowledging a case someone has acknowledged, change nothing."""
    updates: dict[str, object] = {}
    pins = escalates = closes = acknowledges = False
    kind, summary = describe_command(command)
    match command.kind:
        case CaseCommandKind.ASSIGN:
            updates["assignee"] = command.assignee
        case CaseCommandKind.SET_SEVERITY:
            if command.severity is None:
                return Applied(case=case, entry=None)
            updates["severity"] = command.severity
            pins = True
            summary = f"Severity {case.severity.value} → {command.severity.value}"
        case CaseCommandKind.SET_STATE:
            if command.state is None or command.state is CaseState.CLOSED:
                return Applied(case=case, entry=None)
            updates["state"] = command.state
            summary = f"State {case.state.value} → {command.state.value}"
        case CaseCommandKind.ESCALATE:
            updates["escalated"] = True
            escalates = True
        case CaseCommandKind.CLOSE:
            updates |= {"state": CaseState.CLOSED, "resolution": command.resolution}
            closes = True
        case CaseCommandKind.ACKNOWLEDGE:
            if case.acknowledged_by is not None:
                return Applied(case=case, entry=None)
            updates |= {"acknowledged_by": command.actor, "acknowledged_at": at}
            acknowledges = True
        case CaseCommandKind.TICKET:
            system = str(command.data.get("system") or "").strip()
            return Applied(case=case, entry=None, ticket=system or None)
        case CaseCommandKind.NOTE:
            pass
    reason = command.text if command.kind is not CaseCommandKind.NOTE else None
    entry = Entry(kind, command.actor, summary, reason=reason, data={"command_id": command.id})
    return Applied(
        case=case.model_copy(update=updates),
        entry=entry,
        pins_severity=pins,
        escalates=escalates,
        closes=closes,
        acknowledges=acknowledges,
    )

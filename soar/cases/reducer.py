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

from soar.alerts.models import Observable
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
    """A timeline entry before the workflow numbers and times it (`at`, when given, is
    when it happened, if that was before the workflow records it)."""

    kind: str
    actor: str
    summary: str
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


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
    observables = _union(case.observables, alert.observables)
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
        case CaseCommandKind.MERGE | CaseCommandKind.MERGE_IN | CaseCommandKind.SPLIT:
            # The workflow carries these out (merge_away, take_in, split_off).
            return Applied(case=case, entry=None)
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


def _union(first: list[Observable], second: list[Observable]) -> list[Observable]:
    """`first` then what `second` adds, each (type, value) once, up to MAX_OBSERVABLES."""
    observables = list(first)
    known = {(o.type, o.value) for o in observables}
    for observable in second:
        if len(observables) < MAX_OBSERVABLES and (observable.type, observable.value) not in known:
            observables.append(observable)
            known.add((observable.type, observable.value))
    return observables


def merge_away(case: Case, into: str, command: CaseCommand, at: datetime) -> tuple[Case, Entry]:
    """The case merged into `into`: closed, pointing at it, holding no alerts any more
    (they are counted on the survivor)."""
    changed = case.model_copy(
        update={
            "state": CaseState.CLOSED,
            "merged_into": into,
            "alert_count": 0,
            "alert_ids": [],
            "updated_at": at,
        }
    )
    entry = Entry(
        TimelineKind.CASE_MERGED,
        command.actor,
        f"Merged into case {into}: {case.alert_count} alert(s) moved there",
        reason=command.text,
        data={"merged_into": into, "alerts": case.alert_count, "command_id": command.id},
    )
    return changed, entry


def take_in(
    case: Case, merged: Case, command: CaseCommand, *, severity_pinned: bool
) -> tuple[Case, Entry]:
    """The survivor of a merge takes in the merged case: its alerts counted, its
    observables and tags added, its severity if worse (unless a person set the
    survivor's)."""
    severity = case.severity
    if not severity_pinned and merged.severity.rank > severity.rank:
        severity = merged.severity
    changed = case.model_copy(
        update={
            "alert_count": case.alert_count + merged.alert_count,
            "alert_ids": [*case.alert_ids, *merged.alert_ids][-MAX_RECENT_ALERT_IDS:],
            "observables": _union(case.observables, merged.observables),
            "tags": [*case.tags, *(t for t in merged.tags if t not in case.tags)],
            "severity": severity,
        }
    )
    entry = Entry(
        TimelineKind.CASE_MERGED,
        command.actor,
        f"Case {merged.id} merged in: {merged.alert_count} alert(s), its timeline and "
        "open approvals",
        reason=command.text,
        data={"merged_case": merged.id, "alerts": merged.alert_count, "command_id": command.id},
    )
    return changed, entry


def split_off(
    case: Case,
    moved: list[str],
    into: str,
    command: CaseCommand,
    *,
    observables: list[Observable],
) -> tuple[Case, Entry]:
    """The alerts `moved` left for the new case `into`: no longer counted here, and the
    case keeps the observables of the alerts it still holds (`observables`)."""
    gone = set(moved)
    changed = case.model_copy(
        update={
            "alert_count": max(case.alert_count - len(moved), 0),
            "alert_ids": [a for a in case.alert_ids if a not in gone],
            "observables": observables[:MAX_OBSERVABLES],
        }
    )
    entry = Entry(
        TimelineKind.CASE_SPLIT,
        command.actor,
        f"{len(moved)} alert(s) split into case {into}",
        reason=command.text,
        data={"split_into": into, "alert_ids": list(moved), "command_id": command.id},
    )
    return changed, entry


def kept_observables(
    case: Case, moved: list[AttachAlert], still_held: list[Observable]
) -> list[Observable]:
    """What the case keeps of its observables once the alerts `moved` leave: those no
    moved alert holds, and those the alerts it still holds (`still_held`, as stored)
    hold, in the order the case had them, then any the case had no room for."""
    leaving = {(o.type, o.value) for attach in moved for o in attach.alert.observables}
    staying = {(o.type, o.value) for o in still_held}
    kept = [
        o
        for o in case.observables
        if (o.type, o.value) not in leaving or (o.type, o.value) in staying
    ]
    return _union(kept, still_held)


def split_from(case_id: str, count: int, actor: str, reason: str | None) -> Entry:
    """The first entry of a case a split opened."""
    return Entry(
        TimelineKind.CASE_SPLIT,
        actor,
        f"Split from case {case_id}: {count} alert(s)",
        reason=reason,
        data={"split_from": case_id, "alerts": count},
    )

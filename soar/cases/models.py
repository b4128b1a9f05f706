"""The case: alerts about the same attacker, host or user, worked as one incident.

These models are plain data. The case workflow owns the live :class:`Case` and sends
snapshots of it to the case store; Temporal carries them through the pydantic data
converter, so every field is JSON-serialisable and every time is an aware UTC datetime.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from soar.alerts.models import Observable, Severity


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
"""A timezone-aware datetime, normalised to UTC. Naive datetimes are refused: their
meaning depends on the machine that made them, and workflow time is always aware."""


class CaseState(StrEnum):
    """Where a case is in its lifecycle, in the order a case usually moves through it."""

    NEW = "new"
    TRIAGED = "triaged"
    AWAITING_DECISION = "awaiting_decision"
    CONTAINED = "contained"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Resolution(StrEnum):
    """The analyst's verdict on a case, set when it is resolved or closed."""

    TRUE_POSITIVE = "true_positive"
    FALSE_POSITIVE = "false_positive"
    BENIGN = "benign"


class TimelineKind(StrEnum):
    """The timeline entries the product writes itself.

    :attr:`TimelineEvent.kind` is a plain string so a playbook can record kinds of its
    own; these constants keep the built-in ones free of typos.
    """

    ALERT_ATTACHED = "alert_attached"
    NOTE = "note"
    APPROVAL_REQUESTED = "approval_requested"
    DECISION = "decision"
    APPROVAL_REFUSED = "approval_refused"
    APPROVAL_EXPIRED = "approval_expired"
    CONTAINMENT = "containment"
    GUARDRAIL_REFUSED = "guardrail_refused"
    SEVERITY_CHANGED = "severity_changed"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    STATE_CHANGED = "state_changed"
    PLAYBOOK_STARTED = "playbook_started"
    PLAYBOOK_FAILED = "playbook_failed"
    DRY_RUN = "dry_run"
    HANDOFF = "handoff"
    ACKNOWLEDGED = "acknowledged"
    """Someone took the case on: the escalation chain's "not acknowledged" levels stop."""
    ESCALATION_LEVEL = "escalation_level"
    """A level of the escalation chain fired (`data`: level, target, outcome)."""
    ESCALATION_STOPPED = "escalation_stopped"
    """The chain stopped: acknowledged, decided, closed, or run to its end."""
    SLA_BREACHED = "sla_breached"
    """A time to acknowledge or to decide ran out (`data`: sla, due)."""
    TICKET_OPENED = "ticket_opened"
    """A ticket exists for the case (`data`: system, vendor, key, url)."""
    TICKET_FAILED = "ticket_failed"
    """A ticket could not be opened or commented on (`reason` says why)."""
    CASE_MERGED = "case_merged"
    """On both cases of a merge (`data`: `merged_into` on the merged case, `merged_case`
    and `alerts` on the survivor). The merged case's entries copied onto the survivor
    keep their kinds, marked `data["merged_from"]`."""
    CASE_SPLIT = "case_split"
    """On both cases of a split (`data`: `split_into` and `alert_ids` on the case the
    alerts left, `split_from` on the new case)."""


class TimelineEvent(BaseModel):
    """One step in a case's history: what happened, who did it, when and why.

    `id` is chosen by the caller and deterministic (for example derived from the
    workflow id and a sequence number), so recording the same step twice is harmless.
    """

    id: str = Field(min_length=1)
    case_id: str = Field(min_length=1)
    at: UtcDatetime
    kind: str = Field(min_length=1)
    actor: str = Field(min_length=1, description='A user id, "system" or "playbook:<name>".')
    summary: str
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Case(BaseModel):
    """A snapshot of a case as its workflow sees it.

    `alert_count` counts every alert ever attached. `alert_ids` may hold only the most
    recently attached ones, to keep workflow payloads small; the case store keeps the
    full list.
    """

    id: str = Field(min_length=1)
    correlation_key: str
    title: str
    state: CaseState = CaseState.NEW
    resolution: Resolution | None = None
    severity: Severity
    assignee: str | None = None
    alert_count: int = Field(default=0, ge=0)
    alert_ids: list[str] = Field(default_factory=list)
    observables: list[Observable] = Field(default_factory=list)
    created_at: UtcDatetime
    updated_at: UtcDatetime
    escalated: bool = False
    tags: list[str] = Field(default_factory=list)
    acknowledged_by: str | None = None
    acknowledged_at: UtcDatetime | None = None
    escalation_policy: str | None = Field(
        default=None, description="The escalation policy the case opened under."
    )
    merged_into: str | None = Field(
        default=None,
        description="The case this one was merged into (it is closed, and what it held "
        "and later receives is there).",
    )


class CaseCommandKind(StrEnum):
    NOTE = "note"
    ASSIGN = "assign"
    SET_SEVERITY = "set_severity"
    SET_STATE = "set_state"
    ESCALATE = "escalate"
    CLOSE = "close"
    ACKNOWLEDGE = "acknowledge"
    TICKET = "ticket"
    MERGE = "merge"
    """Merge this case into another (`data`: `into`, `into_workflow_id`); sent by
    :func:`soar.cases.service.merge_cases` only."""
    MERGE_IN = "merge_in"
    """Take in a case merged into this one (`data["merged"]`: a
    :class:`soar.cases.contract.MergedCase`); sent by the merged case's workflow only."""
    SPLIT = "split"
    """Move alerts out into a new case (`data`: `alert_ids`); sent by
    :func:`soar.cases.service.split_case` only."""


INTERNAL_KINDS = frozenset({CaseCommandKind.MERGE, CaseCommandKind.MERGE_IN, CaseCommandKind.SPLIT})
"""Command kinds sent only by the merge and split operations and the case workflows,
never as a plain command (their data must be what those operations put there)."""


class CaseCommand(BaseModel):
    """A change to a case, sent to its workflow as the `command` signal by playbooks, the
    API, the CLI and the bot. `id` is deterministic so a repeated send is applied once."""

    id: str = Field(min_length=1, max_length=300)
    kind: CaseCommandKind
    actor: str = Field(min_length=1, max_length=200)
    text: str | None = Field(default=None, max_length=10_000)
    assignee: str | None = None
    severity: Severity | None = None
    state: CaseState | None = None
    resolution: Resolution | None = None
    data: dict[str, Any] = Field(default_factory=dict)


def describe_command(command: CaseCommand) -> tuple[str, str]:
    """The timeline kind and summary of a case command, as the case would write them."""
    match command.kind:
        case CaseCommandKind.NOTE:
            return TimelineKind.NOTE, command.text or ""
        case CaseCommandKind.ASSIGN:
            return TimelineKind.ASSIGNED, f"Assigned to {command.assignee}"
        case CaseCommandKind.SET_SEVERITY:
            level = command.severity.value if command.severity else "unchanged"
            return TimelineKind.SEVERITY_CHANGED, f"Severity → {level}"
        case CaseCommandKind.SET_STATE:
            state = command.state.value if command.state else "unchanged"
            return TimelineKind.STATE_CHANGED, f"State → {state}"
        case CaseCommandKind.ESCALATE:
            return TimelineKind.ESCALATED, command.text or "Escalated"
        case CaseCommandKind.CLOSE:
            resolution = command.resolution.value if command.resolution else "no resolution"
            return TimelineKind.STATE_CHANGED, f"Closed as {resolution}"
        case CaseCommandKind.ACKNOWLEDGE:
            return TimelineKind.ACKNOWLEDGED, f"Acknowledged by {command.actor}"
        case CaseCommandKind.TICKET:
            return TimelineKind.TICKET_OPENED, f"Ticket asked for in {command.data.get('system')}"
        case CaseCommandKind.MERGE:
            return TimelineKind.CASE_MERGED, f"Merged into case {command.data.get('into')}"
        case CaseCommandKind.MERGE_IN:
            merged = command.data.get("merged") or {}
            case = merged.get("case") or {}
            return TimelineKind.CASE_MERGED, f"Case {case.get('id')} merged in"
        case CaseCommandKind.SPLIT:
            count = len(command.data.get("alert_ids") or [])
            return TimelineKind.CASE_SPLIT, f"{count} alert(s) split into a new case"

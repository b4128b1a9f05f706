"""Small builders of valid domain objects for the store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from soar.alerts.models import (
    Alert,
    Observable,
    ObservableRole,
    ObservableType,
    Rule,
    Severity,
    SeverityInfo,
    make_alert,
)
from soar.approvals.models import ApprovalRequest
from soar.cases.models import Case, TimelineEvent, TimelineKind
from soar.containment.models import (
    ContainmentAction,
    ContainmentArgs,
    ContainmentCommand,
    ContainmentTarget,
    ContainmentVerb,
    TargetType,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """A fixed point in time, `minutes` after T0."""
    return T0 + timedelta(minutes=minutes)


def alert(
    key: str = "a1",
    *,
    source: str = "suricata",
    severity: Severity = Severity.HIGH,
    minutes: float = 0,
    **fields: Any,
) -> Alert:
    defaults: dict[str, Any] = {
        "title": f"alert {key}",
        "rule": Rule(name="ET SCAN", id="2001219"),
        "observables": [
            Observable(type=ObservableType.IP, value="203.0.113.7", role=ObservableRole.SOURCE),
            Observable(type=ObservableType.HOSTNAME, value="web-1", role=ObservableRole.HOST),
        ],
        "raw": {"key": key, "nested": {"list": [1, 2.5, None, True]}},
    }
    return make_alert(
        source=source,
        native_key=key,
        severity=SeverityInfo(level=severity, original=severity.value.upper()),
        time=at(minutes),
        **{**defaults, **fields},
    )


def case(case_id: str = "case-1", **fields: Any) -> Case:
    defaults: dict[str, Any] = {
        "correlation_key": f"ip:{case_id}",
        "title": f"Case {case_id}",
        "severity": Severity.HIGH,
        "alert_count": 1,
        "observables": [
            Observable(type=ObservableType.IP, value="203.0.113.7", role=ObservableRole.SOURCE)
        ],
        "created_at": at(0),
        "updated_at": at(1),
        "tags": ["scan"],
    }
    return Case(id=case_id, **{**defaults, **fields})


def event(
    event_id: str, case_id: str = "case-1", minutes: float = 0, **fields: Any
) -> TimelineEvent:
    defaults: dict[str, Any] = {
        "kind": TimelineKind.NOTE,
        "actor": "system",
        "summary": f"event {event_id}",
    }
    return TimelineEvent(id=event_id, case_id=case_id, at=at(minutes), **{**defaults, **fields})


def approval(
    approval_id: str = "appr-1", case_id: str = "case-1", **fields: Any
) -> ApprovalRequest:
    defaults: dict[str, Any] = {
        "workflow_id": f"playbook-{case_id}",
        "playbook": "malicious_ip",
        "action": "deny",
        "target": "203.0.113.7",
        "reason": "scanning our edge",
        "blast_radius": "one external address",
        "deciders": ["alice", "group:soc-leads"],
        "quorum": 1,
        "requested_by": "playbook:malicious_ip",
        "requested_at": at(2),
        "expires_at": at(62),
    }
    return ApprovalRequest(id=approval_id, case_id=case_id, **{**defaults, **fields})


def block_ip(value: str = "203.0.113.7", hours: int = 1) -> ContainmentCommand:
    return ContainmentCommand(
        action=ContainmentVerb.DENY,
        target=ContainmentTarget(type=TargetType.IPV4_NET, value=value),
        args=ContainmentArgs(duration_seconds=hours * 3600),
    )


def action(action_id: str = "act-1", case_id: str = "case-1", **fields: Any) -> ContainmentAction:
    defaults: dict[str, Any] = {"command": block_ip(), "created_at": at(3)}
    return ContainmentAction(id=action_id, case_id=case_id, **{**defaults, **fields})

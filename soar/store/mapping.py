"""Conversions between the domain models and the store's rows.

Writes produce plain dicts (one per row, keyed by column name) for the upsert helper;
reads turn ORM rows back into the same pydantic models the workflows use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python

from soar.alerts.models import (
    Alert,
    AlertStatus,
    Observable,
    ObservableRole,
    ObservableType,
    Rule,
    Severity,
    SeverityInfo,
)
from soar.approvals.models import ApprovalRequest, ApprovalState, Decision, DecisionKind
from soar.cases.models import Case, CaseState, Resolution, TimelineEvent
from soar.containment.models import (
    ActionState,
    ActuatorOutcome,
    ContainmentAction,
    ContainmentArgs,
    ContainmentCommand,
    ContainmentTarget,
    ContainmentVerb,
    TargetType,
)
from soar.enrichment.models import ObservableVerdict, TriageSummary, Verdict
from soar.store.schema import (
    AlertObservableRow,
    AlertRow,
    ApprovalRow,
    CaseObservableRow,
    CaseRow,
    ContainmentActionRow,
    DecisionRow,
    EnrichmentAnswerRow,
    SimilarityIgnoreRow,
    TimelineEventRow,
)
from soar.store.views import (
    AlertDetail,
    AlertState,
    AlertSummary,
    CaseSummary,
    IgnoredObservable,
    StoredAnswer,
)

Row = dict[str, Any]


def observable_digest(type_: str, value: str) -> str:
    """SHA-256 of `type:value`: how the store indexes and deduplicates an observable."""
    return hashlib.sha256(f"{type_}:{value}".encode("utf-8", "surrogatepass")).hexdigest()


def _observable_columns(observable: Observable) -> Row:
    return {
        "type": observable.type.value,
        "value": observable.value,
        "role": observable.role.value,
        "digest": observable_digest(observable.type.value, observable.value),
    }


def _observable(row: AlertObservableRow | CaseObservableRow) -> Observable:
    return Observable(type=ObservableType(row.type), value=row.value, role=ObservableRole(row.role))


def alert_row(alert: Alert, case_id: str | None, now: datetime) -> Row:
    return {
        "id": alert.id,
        "dedup_key": alert.dedup_key,
        "source": alert.source,
        "title": alert.title,
        "description": alert.description,
        "severity": alert.severity.level.value,
        "severity_original": alert.severity.original,
        "rule_name": alert.rule.name,
        "rule_id": alert.rule.id,
        "status": alert.status.value,
        "time": alert.time,
        "link": alert.link,
        "case_id": case_id,
        "raw": to_jsonable_python(alert.raw),
        "received_at": now,
        "updated_at": now,
    }


def alert_observable_rows(alert: Alert) -> list[Row]:
    return [
        {"alert_id": alert.id, "position": position, **_observable_columns(observable)}
        for position, observable in enumerate(alert.observables)
    ]


def alert_from_row(row: AlertRow, observables: Sequence[AlertObservableRow]) -> Alert:
    return Alert(
        id=row.id,
        dedup_key=row.dedup_key,
        source=row.source,
        title=row.title,
        description=row.description,
        rule=Rule(name=row.rule_name, id=row.rule_id),
        severity=SeverityInfo(level=Severity(row.severity), original=row.severity_original),
        status=AlertStatus(row.status),
        time=row.time,
        link=row.link,
        observables=[_observable(o) for o in sorted(observables, key=lambda o: o.position)],
        raw=row.raw,
    )


def alert_detail(row: AlertRow, observables: Sequence[AlertObservableRow]) -> AlertDetail:
    """The recorded alert with its progress: triaged once its triage is stored (which
    happens in the same transaction that puts it on its case)."""
    triage = triage_summary(row)
    return AlertDetail(
        **dict(alert_from_row(row, observables)),
        state=AlertState.TRIAGED if triage is not None else AlertState.RECEIVED,
        case_id=row.case_id,
        triage=triage,
    )


def triage_summary(row: AlertRow) -> TriageSummary | None:
    """The alert's stored triage, None before it is triaged."""
    if row.triage_score is None or row.triage_verdict is None:
        return None
    return TriageSummary(
        score=row.triage_score,
        verdict=Verdict(row.triage_verdict),
        reasons=row.triage_reasons or [],
    )


def triage_params(alert_id: str, triage: TriageSummary) -> Row:
    """Bind parameters of one alert's triage update."""
    return {
        "alert_id": alert_id,
        "score": triage.score,
        "verdict": triage.verdict.value,
        "reasons": list(triage.reasons),
        "observables": [verdict.model_dump(mode="json") for verdict in triage.observables],
    }


VERDICT_ORDER = {Verdict.MALICIOUS: 0, Verdict.SUSPICIOUS: 1, Verdict.BENIGN: 2, Verdict.UNKNOWN: 3}


def case_enrichment(rows: Sequence[AlertRow]) -> list[ObservableVerdict]:
    """The combined verdict of each observable, from the newest alert (`rows` come newest
    first) that recorded one, most alarming first."""
    latest: dict[tuple[str, str], ObservableVerdict] = {}
    for row in rows:
        for stored in row.triage_observables or []:
            verdict = ObservableVerdict.model_validate(stored)
            latest.setdefault((verdict.observable.type.value, verdict.observable.value), verdict)
    return sorted(
        latest.values(), key=lambda v: (VERDICT_ORDER[v.verdict], -v.score, v.observable.value)
    )


def alert_summary(row: AlertRow) -> AlertSummary:
    triage = triage_summary(row)
    return AlertSummary(
        id=row.id,
        source=row.source,
        title=row.title,
        severity=Severity(row.severity),
        status=AlertStatus(row.status),
        time=row.time,
        rule_name=row.rule_name,
        link=row.link,
        case_id=row.case_id,
        triage=triage,
    )


def case_row(case: Case) -> Row:
    return {
        "id": case.id,
        "correlation_key": case.correlation_key,
        "title": case.title,
        "state": case.state.value,
        "resolution": case.resolution.value if case.resolution else None,
        "severity": case.severity.value,
        "assignee": case.assignee,
        "alert_count": case.alert_count,
        "escalated": case.escalated,
        "tags": list(case.tags),
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "acknowledged_by": case.acknowledged_by,
        "acknowledged_at": case.acknowledged_at,
        "escalation_policy": case.escalation_policy,
        "merged_into": case.merged_into,
    }


def case_observable_rows(case: Case) -> list[Row]:
    rows: dict[tuple[str, str], Row] = {}
    for observable in case.observables:
        row = {"case_id": case.id, **_observable_columns(observable)}
        rows[row["digest"], row["role"]] = row
    return list(rows.values())


def case_summary(row: CaseRow) -> CaseSummary:
    return CaseSummary(
        id=row.id,
        correlation_key=row.correlation_key,
        title=row.title,
        state=CaseState(row.state),
        resolution=Resolution(row.resolution) if row.resolution else None,
        severity=Severity(row.severity),
        assignee=row.assignee,
        alert_count=row.alert_count,
        escalated=row.escalated,
        created_at=row.created_at,
        updated_at=row.updated_at,
        merged_into=row.merged_into,
    )


def case_fields(row: CaseRow, observables: Sequence[CaseObservableRow]) -> dict[str, Any]:
    """The :class:`Case` fields of a case row, for building a `Case` or a subclass of it."""
    return {
        **case_summary(row).model_dump(),
        "tags": list(row.tags),
        "acknowledged_by": row.acknowledged_by,
        "acknowledged_at": row.acknowledged_at,
        "escalation_policy": row.escalation_policy,
        "observables": [_observable(o) for o in observables],
    }


def timeline_row(event: TimelineEvent) -> Row:
    return {
        "id": event.id,
        "case_id": event.case_id,
        "at": event.at,
        "kind": event.kind,
        "actor": event.actor,
        "summary": event.summary,
        "reason": event.reason,
        "data": to_jsonable_python(event.data),
    }


def timeline_from_row(row: TimelineEventRow) -> TimelineEvent:
    return TimelineEvent(
        id=row.id,
        case_id=row.case_id,
        at=row.at,
        kind=row.kind,
        actor=row.actor,
        summary=row.summary,
        reason=row.reason,
        data=row.data,
    )


def approval_row(request: ApprovalRequest) -> Row:
    return {
        "id": request.id,
        "case_id": request.case_id,
        "workflow_id": request.workflow_id,
        "playbook": request.playbook,
        "action": request.action,
        "target": request.target,
        "reason": request.reason,
        "blast_radius": request.blast_radius,
        "deciders": list(request.deciders),
        "quorum": request.quorum,
        "requested_by": request.requested_by,
        "requested_at": request.requested_at,
        "forbid_self_approval": request.forbid_self_approval,
        "expires_at": request.expires_at,
        "state": request.state.value,
        "settled_at": request.settled_at,
        "settled_by": request.settled_by,
    }


def decision_rows(request: ApprovalRequest) -> list[Row]:
    return [
        {
            "approval_id": request.id,
            "user": decision.user,
            "decision": decision.decision.value,
            "reason": decision.reason,
            "at": decision.at,
        }
        for decision in request.decisions
    ]


def _decision(row: DecisionRow) -> Decision:
    return Decision(
        approval_id=row.approval_id,
        decision=DecisionKind(row.decision),
        user=row.user,
        reason=row.reason,
        at=row.at,
    )


def approval_from_row(row: ApprovalRow, decisions: Sequence[DecisionRow]) -> ApprovalRequest:
    return ApprovalRequest(
        id=row.id,
        case_id=row.case_id,
        workflow_id=row.workflow_id,
        playbook=row.playbook,
        action=row.action,
        target=row.target,
        reason=row.reason,
        blast_radius=row.blast_radius,
        deciders=list(row.deciders),
        quorum=row.quorum,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        forbid_self_approval=row.forbid_self_approval,
        expires_at=row.expires_at,
        state=ApprovalState(row.state),
        decisions=[_decision(d) for d in decisions],
        settled_at=row.settled_at,
        settled_by=row.settled_by,
    )


def action_row(action: ContainmentAction) -> Row:
    return {
        "id": action.id,
        "case_id": action.case_id,
        "action": action.command.action.value,
        "target_type": action.command.target.type.value,
        "target_value": action.command.target.value,
        "args": action.command.args.model_dump(mode="json"),
        "actuator": action.actuator,
        "outcomes": [outcome.model_dump(mode="json") for outcome in action.outcomes],
        "state": action.state.value,
        "detail": action.detail,
        "approval_id": action.approval_id,
        "created_at": action.created_at,
        "applied_at": action.applied_at,
        "reverted_at": action.reverted_at,
        "expires_at": action.expires_at,
    }


def action_from_row(row: ContainmentActionRow) -> ContainmentAction:
    command = ContainmentCommand(
        action=ContainmentVerb(row.action),
        target=ContainmentTarget(type=TargetType(row.target_type), value=row.target_value),
        args=ContainmentArgs.model_validate(row.args),
    )
    return ContainmentAction(
        id=row.id,
        case_id=row.case_id,
        command=command,
        actuator=row.actuator,
        outcomes=[ActuatorOutcome.model_validate(o) for o in row.outcomes or []],
        state=ActionState(row.state),
        detail=row.detail,
        approval_id=row.approval_id,
        created_at=row.created_at,
        applied_at=row.applied_at,
        reverted_at=row.reverted_at,
        expires_at=row.expires_at,
    )


def answer_row(answer: StoredAnswer) -> Row:
    return {
        "provider": answer.provider,
        "digest": answer.digest,
        "type": answer.type,
        "value": answer.value,
        "fingerprint": answer.fingerprint,
        "verdict": answer.verdict,
        "answer": answer.answer,
        "fetched_at": answer.fetched_at,
        "expires_at": answer.expires_at,
    }


def answer_from_row(row: EnrichmentAnswerRow) -> StoredAnswer:
    return StoredAnswer(
        provider=row.provider,
        digest=row.digest,
        type=row.type,
        value=row.value,
        fingerprint=row.fingerprint,
        verdict=row.verdict,
        answer=row.answer,
        fetched_at=row.fetched_at,
        expires_at=row.expires_at,
    )


def ignored_observable(row: SimilarityIgnoreRow) -> IgnoredObservable:
    return IgnoredObservable(
        value=row.value, added_by=row.added_by, reason=row.reason, added_at=row.added_at
    )

"""What the store's listings and detail reads return: shapes for the operator API and CLI."""

from __future__ import annotations

from pydantic import BaseModel, Field

from soar.alerts.models import AlertStatus, Severity
from soar.approvals.models import ApprovalRequest
from soar.cases.models import Case, CaseState, Resolution, TimelineEvent, UtcDatetime
from soar.containment.models import ContainmentAction
from soar.enrichment.models import TriageSummary


class AlertSummary(BaseModel):
    """An alert without its observables and raw payload, for lists."""

    id: str
    source: str
    title: str
    severity: Severity
    status: AlertStatus
    time: UtcDatetime
    rule_name: str | None = None
    link: str | None = None
    case_id: str | None = None
    triage: TriageSummary | None = None


class CaseSummary(BaseModel):
    """A case as `GET /api/cases` and `soar cases list` show it."""

    id: str
    correlation_key: str
    title: str
    state: CaseState
    resolution: Resolution | None = None
    severity: Severity
    assignee: str | None = None
    alert_count: int
    escalated: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class CaseDetail(Case):
    """A case with everything recorded about it.

    `alerts` holds the most recent attached alerts (as many as the caller asked for;
    `alert_count` says how many there are in all) and `alert_ids` their ids. The
    timeline is in time order, ties broken by event id.
    """

    alerts: list[AlertSummary] = Field(default_factory=list)
    timeline: list[TimelineEvent] = Field(default_factory=list)
    approvals: list[ApprovalRequest] = Field(default_factory=list)
    actions: list[ContainmentAction] = Field(default_factory=list)

"""What a case summary says, as data: the context every case template is rendered with.

:func:`soar.reports.case_report.gather_case_report` fills it from the case store and
the inventory. Every string in it is already cleaned and clipped (see
:mod:`soar.reports.text`) but not escaped: each template escapes for its own format.
Templates read these fields by name, so an operator's override can rely on them.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from soar.alerts.models import Severity
from soar.enrichment.models import Criticality, Verdict


class AssetImpact(BaseModel):
    """A host the case involves, with what the inventory says about it."""

    name: str
    roles: list[str] = Field(description="What part it plays in the alerts (host, target…).")
    in_inventory: bool
    criticality: Criticality | None = None
    owner: str | None = None
    tags: list[str] = Field(default_factory=list)


class UserImpact(BaseModel):
    """A user account the case involves, with what the inventory says about it."""

    name: str
    roles: list[str]
    in_inventory: bool
    team: str | None = None
    manager: str | None = None
    vip: bool = False


class Finding(BaseModel):
    """An observable and the combined verdict enrichment gave it, when it has one."""

    type: str
    value: str
    roles: list[str]
    verdict: Verdict | None = None
    score: int | None = None
    reason: str | None = None


class AlertLine(BaseModel):
    """One of the case's most recent alerts."""

    time: datetime
    source: str
    severity: Severity
    title: str
    rule: str
    description: str
    link: str | None = Field(default=None, description="The SIEM's page, http(s) only.")
    verdict: Verdict | None = None
    score: int | None = None
    reasons: list[str] = Field(default_factory=list)


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    actor: str
    summary: str
    reason: str | None = None


class ActionEntry(BaseModel):
    """A containment action and where it stands."""

    verb: str
    target: str
    state: str
    in_effect: bool
    actuators: list[str]
    created_at: datetime
    applied_at: datetime | None = None
    expires_at: datetime | None = None
    reverted_at: datetime | None = None
    detail: str | None = None


class DecisionEntry(BaseModel):
    user: str
    decision: str
    at: datetime
    reason: str | None = None


class ApprovalEntry(BaseModel):
    """An approval request and who decided it."""

    action: str
    target: str
    state: str
    reason: str
    blast_radius: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    quorum: int
    deciders: list[str]
    decisions: list[DecisionEntry]
    settled_by: str | None = None
    settled_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.state == "pending"


class TicketEntry(BaseModel):
    """A ticket opened for the case (a `ticket_opened` timeline entry)."""

    system: str
    vendor: str
    key: str
    url: str | None = Field(default=None, description="http(s) only.")
    opened_at: datetime


class EscalationStep(BaseModel):
    """A level of the escalation chain that fired, or an escalation by hand."""

    at: datetime
    level: str
    target: str
    outcome: str


class SlaBreach(BaseModel):
    at: datetime
    sla: str
    due: str


class EscalationStatus(BaseModel):
    """Where escalation stands: who was told, whether someone took the case on, why it
    stopped."""

    summary: str = Field(description='In a line: "not escalated", "at level 2 (…)", …')
    policy: str | None = Field(default=None, description="The policy the case opened under.")
    escalated: bool
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    stopped: str | None = Field(default=None, description="Why the chain stopped, if it did.")
    steps: list[EscalationStep] = Field(default_factory=list)
    breaches: list[SlaBreach] = Field(default_factory=list)


class CaseReport(BaseModel):
    """Everything a case summary shows, for every kind and format."""

    case_id: str
    title: str
    severity: Severity
    state: str = Field(description='In words: "waiting for a decision", "contained"…')
    open: bool = Field(description="Neither resolved nor closed.")
    resolution: str | None = None
    correlation_key: str
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    generated_at: datetime
    alert_count: int
    sources: list[str]
    rules: list[str]
    what_happened: str = Field(description="The case in a few plain sentences.")
    description: str = Field(description="The most recent alert's description, clipped.")
    verdict: Verdict | None = Field(default=None, description="The latest alert's triage.")
    score: int | None = None
    assets: list[AssetImpact]
    users: list[UserImpact]
    findings: list[Finding]
    findings_left_out: int = 0
    alerts: list[AlertLine]
    timeline: list[TimelineEntry]
    timeline_left_out: int = Field(default=0, description="Older entries not shown.")
    actions: list[ActionEntry]
    approvals: list[ApprovalEntry]
    assignee: str | None = None
    escalation: EscalationStatus
    tickets: list[TicketEntry]
    next_steps: list[str]
    open_risks: list[str]

    @property
    def actions_in_effect(self) -> list[ActionEntry]:
        return [action for action in self.actions if action.in_effect]

    @property
    def pending_approvals(self) -> list[ApprovalEntry]:
        return [approval for approval in self.approvals if approval.pending]

    @property
    def critical_assets(self) -> list[AssetImpact]:
        """Hosts of high or critical business importance."""
        important = (Criticality.HIGH, Criticality.CRITICAL)
        return [asset for asset in self.assets if asset.criticality in important]

    @property
    def vip_users(self) -> list[UserImpact]:
        return [user for user in self.users if user.vip]

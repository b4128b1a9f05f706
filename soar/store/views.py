"""What the store's listings and detail reads return: shapes for the operator API and CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from soar.alerts.models import Alert, AlertStatus, ObservableType, Severity
from soar.approvals.models import ApprovalRequest
from soar.cases.models import (
    Case,
    CaseState,
    Resolution,
    TimelineEvent,
    TimelineKind,
    UtcDatetime,
)
from soar.containment.models import ContainmentAction
from soar.enrichment.models import ObservableVerdict, TriageSummary


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


class AlertState(StrEnum):
    """How far an accepted alert has gone."""

    RECEIVED = "received"
    """Accepted (the webhook answered 202): spooled, parked, started or recorded, and
    not triaged yet. An alert whose first news is its resolution is never triaged."""
    TRIAGED = "triaged"
    """Triaged and on its case: `triage` and `case_id` say which."""


class AlertDetail(Alert):
    """`GET /api/alerts/{id}`: the normalised alert and how far it has gone."""

    state: AlertState
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
    merged_into: str | None = None


class SharedObservable(BaseModel):
    """An observable two cases both hold."""

    type: ObservableType
    value: str


class SimilarCase(BaseModel):
    """Another open case that shares observables with this one, and which it shares."""

    id: str
    title: str
    state: CaseState
    severity: Severity
    updated_at: UtcDatetime
    shared: int = Field(description="How many observables the two cases share.")
    matched: list[SharedObservable] = Field(
        description="The shared observables (the first few, by type and value)."
    )


class IgnoredObservable(BaseModel):
    """A value marked "ignore for similarity": shared by cases without making them
    similar (your own domain, a shared proxy). `configured` ones come from
    `[correlation] ignore_for_similarity`; the others were marked through the API."""

    value: str
    configured: bool = False
    added_by: str | None = None
    reason: str | None = None
    added_at: UtcDatetime | None = None


class CaseTicket(BaseModel):
    """A ticket of the case in a configured ticket system (`[tickets.<system>]`)."""

    system: str
    vendor: str | None = None
    key: str
    url: str | None = None


def case_tickets(timeline: list[TimelineEvent]) -> list[CaseTicket]:
    """The case's tickets, each once, from its `ticket_opened` timeline entries."""
    found: dict[tuple[str, str], CaseTicket] = {}
    for event in timeline:
        if event.kind != TimelineKind.TICKET_OPENED:
            continue
        system, key = event.data.get("system"), event.data.get("key")
        if isinstance(system, str) and isinstance(key, str):
            vendor, url = event.data.get("vendor"), event.data.get("url")
            found.setdefault(
                (system, key),
                CaseTicket(
                    system=system,
                    key=key,
                    vendor=vendor if isinstance(vendor, str) else None,
                    url=url if isinstance(url, str) else None,
                ),
            )
    return list(found.values())


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
    enrichment: list[ObservableVerdict] = Field(
        default_factory=list,
        description="Each observable's combined verdict across sources, as the most "
        "recent alert that looked it up recorded it, most alarming first.",
    )
    tickets: list[CaseTicket] = Field(
        default_factory=list, description="The case's tickets (from its timeline), each once."
    )
    similar: list[SimilarCase] = Field(
        default_factory=list,
        description="Other open cases sharing an observable with this one (values marked "
        "ignore-for-similarity left out), most shared first; filled by "
        "`GET /api/cases/{id}` (soar.cases.similarity.similar_cases).",
    )


@dataclass(frozen=True)
class StoredAnswer:
    """A provider's cached answer about one observable (the `enrichment_answers` row);
    `answer` is the Enrichment as JSON, None when the provider knew nothing."""

    provider: str
    digest: str
    type: str
    value: str
    fingerprint: str
    verdict: str
    answer: dict[str, Any] | None
    fetched_at: datetime
    expires_at: datetime

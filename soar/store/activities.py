"""Temporal activities that write the case store.

Each takes one pydantic argument and is idempotent: the ids in it are deterministic
and every write is an upsert, so a retry, or a replayed workflow running the activity
again, leaves the store as one run would.

Workflows import this module (through `workflow.unsafe.imports_passed_through()`) to
refer to the methods; it imports nothing that does I/O at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from soar.alerts.models import Alert, Observable
from soar.approvals.models import ApprovalRequest
from soar.cases.contract import AttachAlert
from soar.cases.models import Case, TimelineEvent
from soar.containment.models import ContainmentAction
from soar.enrichment.models import Triage, TriageSummary
from soar.heartbeat import BATCH_HEARTBEAT_EVERY, heartbeating

if TYPE_CHECKING:
    from soar.store.repository import Repository


class AttachAlertInput(BaseModel):
    alert_id: str = Field(min_length=1)
    case_id: str = Field(min_length=1)


class CaseChanges(BaseModel):
    """One batch of a case's changes: its snapshot, new timeline events, new alerts."""

    case: Case
    events: list[TimelineEvent] = Field(default_factory=list)
    alert_ids: list[str] = Field(default_factory=list)
    triages: dict[str, TriageSummary] = Field(
        default_factory=dict, description="The triage of each new alert, by alert id."
    )
    merged_from: list[str] = Field(
        default_factory=list,
        description="Cases merged into this one in the batch: what they hold moves here.",
    )


class SplitQuery(BaseModel):
    """The alerts a split would take out of a case."""

    case_id: str = Field(min_length=1)
    alert_ids: list[str]


class SplitTaken(BaseModel):
    """The answer to a :class:`SplitQuery`: the named alerts that are on the case, each
    with its triage, ready to open the new case, and the observables the case keeps."""

    alerts: list[AttachAlert]
    kept_observables: list[Observable] = Field(default_factory=list)


class AlertNotRecordedError(ApplicationError):
    """The alert to attach is not in the store yet; Temporal retries until it is."""

    def __init__(self, alert_id: str) -> None:
        super().__init__(f"alert {alert_id!r} is not recorded yet", type="AlertNotRecorded")


class StoreActivities:
    """The store's activities, bound to one store (a :class:`~soar.store.db.Store`)."""

    def __init__(self, store: Repository) -> None:
        self._store = store

    @activity.defn(name="store.record_alert")
    async def record_alert(self, alert: Alert) -> None:
        """Record an alert, keeping the case it is attached to."""
        await self._store.upsert_alert(alert)

    @activity.defn(name="store.attach_alert_to_case")
    async def attach_alert_to_case(self, attach: AttachAlertInput) -> None:
        """Link a recorded alert to its case; retried until the alert's own record lands."""
        if not await self._store.attach_alert(attach.alert_id, attach.case_id):
            raise AlertNotRecordedError(attach.alert_id)

    @activity.defn(name="store.record_case")
    async def record_case(self, case: Case) -> None:
        """Record a case snapshot; an older snapshot than the stored one is ignored."""
        await self._store.upsert_case(case)

    @activity.defn(name="store.record_case_changes")
    async def record_case_changes(self, changes: CaseChanges) -> None:
        """Record a case batch in one activity, so an alert storm costs one call per batch.

        One transaction: once a reader sees the new alert count, the alerts and timeline
        entries it counts are there too. It heartbeats while a busy store keeps it
        waiting, so a lost completion is retried in seconds, not minutes."""
        async with heartbeating(BATCH_HEARTBEAT_EVERY):
            missing = await self._store.record_case_changes(
                changes.case,
                changes.events,
                changes.alert_ids,
                changes.triages,
                merged_from=changes.merged_from,
            )
        if missing:
            raise AlertNotRecordedError(missing[0])

    @activity.defn(name="store.alerts_to_split")
    async def alerts_to_split(self, query: SplitQuery) -> SplitTaken:
        """The alerts a split takes from its case, as the store holds them (the case
        workflow keeps only the latest ids), and what the case keeps without them."""
        found = await self._store.alerts_to_split(query.case_id, query.alert_ids)
        return SplitTaken(
            alerts=[
                AttachAlert(
                    alert=alert.model_copy(update={"raw": None}),
                    triage=_triage(alert.id, summary) if summary is not None else None,
                )
                for alert, summary in found.alerts
            ],
            kept_observables=found.kept_observables,
        )

    @activity.defn(name="store.record_timeline_event")
    async def record_timeline_event(self, event: TimelineEvent) -> None:
        """Record a timeline entry; the first write of an event id stands."""
        await self._store.add_timeline_event(event)

    @activity.defn(name="store.record_approval")
    async def record_approval(self, request: ApprovalRequest) -> None:
        """Record an approval request with the decisions made so far."""
        await self._store.upsert_approval(request)

    @activity.defn(name="store.record_action")
    async def record_action(self, action: ContainmentAction) -> None:
        """Record the latest state of a containment action."""
        await self._store.upsert_action(action)

    def all(self) -> list[Callable[..., Any]]:
        """Every activity of this class, for `Worker(activities=...)`."""
        return [
            self.record_alert,
            self.attach_alert_to_case,
            self.record_case,
            self.record_case_changes,
            self.alerts_to_split,
            self.record_timeline_event,
            self.record_approval,
            self.record_action,
        ]


def _triage(alert_id: str, summary: TriageSummary) -> Triage:
    """A triage rebuilt from what the store keeps of it (the evidence is not kept)."""
    return Triage(
        alert_id=alert_id,
        score=summary.score,
        verdict=summary.verdict,
        reasons=summary.reasons,
        observables=summary.observables,
    )

"""The case store's tables, as SQLAlchemy ORM classes.

The store is a projection of workflow state, written by activities that may complete
in any order. Rows written together in one call (an alert and its observables, a case
and its observables, an approval and its decisions) are tied by foreign keys; rows
written by different workflows point at a case by `case_id` without a foreign key, so
a timeline entry or an alert link never fails because the case row lands later.

Observable values are attacker-controlled and unbounded, so uniqueness and lookups go
through `digest` (SHA-256 of `type:value`) rather than a B-tree over the value itself.

Alembic migrations in `migrations/versions` create these tables; a test checks that
the two agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from soar.store.types import SafeText, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names that do not depend on the database, so later migrations can name them."""


class Base(DeclarativeBase):
    """Declarative base of the store; `Base.metadata` is what migrations target."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AlertRow(Base):
    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(SafeText)
    source: Mapped[str] = mapped_column(String)
    title: Mapped[str] = mapped_column(SafeText)
    description: Mapped[str | None] = mapped_column(SafeText)
    severity: Mapped[str] = mapped_column(String)
    severity_original: Mapped[str | None] = mapped_column(SafeText)
    rule_name: Mapped[str | None] = mapped_column(SafeText)
    rule_id: Mapped[str | None] = mapped_column(SafeText)
    status: Mapped[str] = mapped_column(String)
    time: Mapped[datetime] = mapped_column(UtcDateTime)
    link: Mapped[str | None] = mapped_column(SafeText)
    case_id: Mapped[str | None] = mapped_column(String)
    raw: Mapped[Any] = mapped_column(JSON, nullable=True)
    triage_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    triage_verdict: Mapped[str | None] = mapped_column(String, nullable=True)
    triage_reasons: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    triage_observables: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_alerts_time", "time"),
        Index("ix_alerts_source_time", "source", "time"),
        Index("ix_alerts_case_id_time", "case_id", "time"),
    )


class AlertObservableRow(Base):
    __tablename__ = "alert_observables"

    alert_id: Mapped[str] = mapped_column(
        String, ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String)
    value: Mapped[str] = mapped_column(SafeText)
    role: Mapped[str] = mapped_column(String)
    digest: Mapped[str] = mapped_column(String(64), index=True)


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    correlation_key: Mapped[str] = mapped_column(SafeText)
    title: Mapped[str] = mapped_column(SafeText)
    state: Mapped[str] = mapped_column(String)
    resolution: Mapped[str | None] = mapped_column(String)
    severity: Mapped[str] = mapped_column(String)
    assignee: Mapped[str | None] = mapped_column(String)
    alert_count: Mapped[int] = mapped_column(Integer)
    escalated: Mapped[bool] = mapped_column(Boolean)
    tags: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalation_policy: Mapped[str | None] = mapped_column(String)
    merged_into: Mapped[str | None] = mapped_column(String)

    __table_args__ = (
        Index("ix_cases_updated_at", "updated_at"),
        Index("ix_cases_state_updated_at", "state", "updated_at"),
        Index("ix_cases_severity_updated_at", "severity", "updated_at"),
        Index("ix_cases_assignee_updated_at", "assignee", "updated_at"),
    )


class CaseObservableRow(Base):
    __tablename__ = "case_observables"

    case_id: Mapped[str] = mapped_column(
        String, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String, primary_key=True)
    type: Mapped[str] = mapped_column(String)
    value: Mapped[str] = mapped_column(SafeText)


class TimelineEventRow(Base):
    __tablename__ = "timeline_events"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    case_id: Mapped[str] = mapped_column(String)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String)
    actor: Mapped[str] = mapped_column(SafeText)
    summary: Mapped[str] = mapped_column(SafeText)
    reason: Mapped[str | None] = mapped_column(SafeText)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (Index("ix_timeline_events_case_id_at", "case_id", "at", "id"),)


class ApprovalRow(Base):
    __tablename__ = "approvals"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    case_id: Mapped[str] = mapped_column(String, index=True)
    workflow_id: Mapped[str] = mapped_column(String)
    playbook: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(SafeText)
    target: Mapped[str] = mapped_column(SafeText)
    reason: Mapped[str] = mapped_column(SafeText)
    blast_radius: Mapped[str] = mapped_column(SafeText)
    deciders: Mapped[list[str]] = mapped_column(JSON)
    quorum: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    forbid_self_approval: Mapped[bool] = mapped_column(Boolean)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    settled_by: Mapped[str | None] = mapped_column(String)

    __table_args__ = (Index("ix_approvals_state_requested_at", "state", "requested_at"),)


class DecisionRow(Base):
    __tablename__ = "approval_decisions"

    approval_id: Mapped[str] = mapped_column(
        String, ForeignKey("approvals.id", ondelete="CASCADE"), primary_key=True
    )
    user: Mapped[str] = mapped_column(String, primary_key=True)
    decision: Mapped[str] = mapped_column(String)
    reason: Mapped[str | None] = mapped_column(SafeText)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ContainmentActionRow(Base):
    __tablename__ = "containment_actions"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    case_id: Mapped[str] = mapped_column(String, index=True)
    action: Mapped[str] = mapped_column(String)
    target_type: Mapped[str] = mapped_column(String)
    target_value: Mapped[str] = mapped_column(SafeText)
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    actuator: Mapped[str | None] = mapped_column(String)
    outcomes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    state: Mapped[str] = mapped_column(String)
    detail: Mapped[str | None] = mapped_column(SafeText)
    approval_id: Mapped[str | None] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    reverted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ContainmentSlotRow(Base):
    """One slot of the hourly containment ceiling, held by the action that reserved it.

    Reserved in one locked transaction right before an actuator is called, so concurrent
    containments cannot all see the same count; keyed by the action, so a retried
    activity finds its own slot instead of taking a second one.
    """

    __tablename__ = "containment_slots"

    action_id: Mapped[str] = mapped_column(String, primary_key=True)
    reserved_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class EnrichmentAnswerRow(Base):
    """One provider's cached answer about one observable, shared by every worker; keyed
    by the observable first, so every provider's answer about it is one range read.

    `digest` is SHA-256 of `type:value` (the canonical value, see
    :mod:`soar.enrichment.observables`). `fingerprint` is a hash of the provider's
    endpoint and credentials when it answered — never the secret itself — so an answer
    is not served once they change. `answer` is the Enrichment with the vendor's raw
    answer in `data.raw`; NULL when the provider knew nothing.
    """

    __tablename__ = "enrichment_answers"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String, primary_key=True)
    type: Mapped[str] = mapped_column(String)
    value: Mapped[str] = mapped_column(SafeText)
    fingerprint: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class EnrichmentQuotaRow(Base):
    """Lookups a provider was sent on one UTC day (`YYYY-MM-DD`), counted across workers
    against its `daily_quota`."""

    __tablename__ = "enrichment_quotas"

    provider: Mapped[str] = mapped_column(String, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    used: Mapped[int] = mapped_column(Integer)


class SimilarityIgnoreRow(Base):
    """A value marked "ignore for similarity" through the API or `soar cases
    ignore-observable`. `key` is SHA-256 of the value as :func:`soar.cases.similarity.
    similarity_key` normalises it (casefolded, addresses in canonical form), so the
    mark holds whatever the observable's type and however the value is spelled."""

    __tablename__ = "similarity_ignored"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(SafeText)
    added_by: Mapped[str] = mapped_column(String)
    reason: Mapped[str | None] = mapped_column(SafeText)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


OWNED_ELSEWHERE = frozenset({"slack_messages"})
"""Tables in the store's database that another package declares: `slack_messages` is the
bot's (bot/message_store.py), created by migration 0002. Autogenerate leaves them be."""

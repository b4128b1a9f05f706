"""The initial case store: alerts, cases, observables, timeline, approvals, actions.

Revision ID: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("dedup_key", sa.Text(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("severity_original", sa.Text(), nullable=True),
        sa.Column("rule_name", sa.Text(), nullable=True),
        sa.Column("rule_id", sa.Text(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("time", UTC_TIME, nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("case_id", sa.String(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.Column("received_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_time", "alerts", ["time"])
    op.create_index("ix_alerts_source_time", "alerts", ["source", "time"])
    op.create_index("ix_alerts_case_id_time", "alerts", ["case_id", "time"])

    op.create_table(
        "alert_observables",
        sa.Column("alert_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_observables_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "position", name=op.f("pk_alert_observables")),
    )
    op.create_index(op.f("ix_alert_observables_digest"), "alert_observables", ["digest"])

    op.create_table(
        "cases",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("correlation_key", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("resolution", sa.String(), nullable=True),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("assignee", sa.String(), nullable=True),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_index("ix_cases_updated_at", "cases", ["updated_at"])
    op.create_index("ix_cases_state_updated_at", "cases", ["state", "updated_at"])
    op.create_index("ix_cases_severity_updated_at", "cases", ["severity", "updated_at"])
    op.create_index("ix_cases_assignee_updated_at", "cases", ["assignee", "updated_at"])

    op.create_table(
        "case_observables",
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_observables_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "digest", "role", name=op.f("pk_case_observables")),
    )
    op.create_index(op.f("ix_case_observables_digest"), "case_observables", ["digest"])

    op.create_table(
        "timeline_events",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_events")),
    )
    op.create_index("ix_timeline_events_case_id_at", "timeline_events", ["case_id", "at", "id"])

    op.create_table(
        "approvals",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("workflow_id", sa.String(), nullable=False),
        sa.Column("playbook", sa.String(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("blast_radius", sa.Text(), nullable=False),
        sa.Column("deciders", sa.JSON(), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(), nullable=False),
        sa.Column("requested_at", UTC_TIME, nullable=False),
        sa.Column("forbid_self_approval", sa.Boolean(), nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("settled_at", UTC_TIME, nullable=True),
        sa.Column("settled_by", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index(op.f("ix_approvals_case_id"), "approvals", ["case_id"])
    op.create_index("ix_approvals_state_requested_at", "approvals", ["state", "requested_at"])

    op.create_table(
        "approval_decisions",
        sa.Column("approval_id", sa.String(), nullable=False),
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("decision", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["approval_id"],
            ["approvals.id"],
            name=op.f("fk_approval_decisions_approval_id_approvals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("approval_id", "user", name=op.f("pk_approval_decisions")),
    )

    op.create_table(
        "containment_actions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("case_id", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("target_type", sa.String(), nullable=False),
        sa.Column("target_value", sa.Text(), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("actuator", sa.String(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("approval_id", sa.String(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("applied_at", UTC_TIME, nullable=True),
        sa.Column("reverted_at", UTC_TIME, nullable=True),
        sa.Column("expires_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_containment_actions")),
    )
    op.create_index(op.f("ix_containment_actions_case_id"), "containment_actions", ["case_id"])
    op.create_index(
        op.f("ix_containment_actions_applied_at"), "containment_actions", ["applied_at"]
    )


def downgrade() -> None:
    for table in (
        "containment_actions",
        "approval_decisions",
        "approvals",
        "timeline_events",
        "case_observables",
        "cases",
        "alert_observables",
        "alerts",
    ):
        op.drop_table(table)

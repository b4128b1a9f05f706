"""Enrichment: the cache of providers' answers, their daily quotas, and each alert's
combined verdicts per observable.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "enrichment_answers",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("verdict", sa.String(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("fetched_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("digest", "provider", name=op.f("pk_enrichment_answers")),
    )
    op.create_index(op.f("ix_enrichment_answers_expires_at"), "enrichment_answers", ["expires_at"])
    op.create_table(
        "enrichment_quotas",
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("provider", "day", name=op.f("pk_enrichment_quotas")),
    )
    with op.batch_alter_table("alerts") as alerts:
        alerts.add_column(sa.Column("triage_observables", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as alerts:
        alerts.drop_column("triage_observables")
    op.drop_table("enrichment_quotas")
    op.drop_index(op.f("ix_enrichment_answers_expires_at"), table_name="enrichment_answers")
    op.drop_table("enrichment_answers")

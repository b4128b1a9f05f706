"""Each alert's triage as data: score, verdict and reasons, written when its case takes it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as alerts:
        alerts.add_column(sa.Column("triage_score", sa.Integer(), nullable=True))
        alerts.add_column(sa.Column("triage_verdict", sa.String(), nullable=True))
        alerts.add_column(sa.Column("triage_reasons", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as alerts:
        alerts.drop_column("triage_reasons")
        alerts.drop_column("triage_verdict")
        alerts.drop_column("triage_score")

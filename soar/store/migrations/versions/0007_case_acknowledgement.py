"""Who acknowledged a case and when, and the escalation policy it opened under.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as cases:
        cases.add_column(sa.Column("acknowledged_by", sa.String(), nullable=True))
        cases.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        cases.add_column(sa.Column("escalation_policy", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as cases:
        cases.drop_column("escalation_policy")
        cases.drop_column("acknowledged_at")
        cases.drop_column("acknowledged_by")

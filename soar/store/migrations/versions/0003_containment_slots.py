"""Slots of the hourly containment ceiling, reserved atomically before an actuator runs.

Every action applied before this migration takes its slot at its `applied_at` (slots
older than an hour no longer count), so the ceiling holds across the upgrade.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "containment_slots",
        sa.Column("action_id", sa.String(), nullable=False),
        sa.Column("reserved_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("action_id", name=op.f("pk_containment_slots")),
    )
    op.create_index(op.f("ix_containment_slots_reserved_at"), "containment_slots", ["reserved_at"])
    op.execute(
        "INSERT INTO containment_slots (action_id, reserved_at) "
        "SELECT id, applied_at FROM containment_actions WHERE applied_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("containment_slots")

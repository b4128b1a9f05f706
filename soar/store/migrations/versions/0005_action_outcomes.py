"""Each containment action's outcome per actuator: one command may run on several.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("containment_actions") as actions:
        actions.add_column(sa.Column("outcomes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("containment_actions") as actions:
        actions.drop_column("outcomes")

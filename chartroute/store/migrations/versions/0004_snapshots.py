"""daily backlog snapshots, and an index on work item events by time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backlog_snapshot",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("day", "origin", name=op.f("pk_backlog_snapshot")),
    )
    op.create_table(
        "backlog_snapshot_value",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "origin", "metric", "dimension", "key", name=op.f("pk_backlog_snapshot_value")
        ),
    )
    with op.batch_alter_table("work_item_event", schema=None) as batch_op:
        batch_op.create_index("ix_work_item_event_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("work_item_event", schema=None) as batch_op:
        batch_op.drop_index("ix_work_item_event_at")
    op.drop_table("backlog_snapshot_value")
    op.drop_table("backlog_snapshot")

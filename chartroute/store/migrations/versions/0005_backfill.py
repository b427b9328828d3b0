"""backfill bookkeeping: encounters by start day, completed partitions, their figures

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backfill_encounter",
        sa.Column("encounter", sa.String(length=200), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=True),
        sa.Column("indexed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("encounter", name=op.f("pk_backfill_encounter")),
    )
    op.create_index(
        "ix_backfill_encounter_start_day", "backfill_encounter", ["start_day"], unique=False
    )
    op.create_table(
        "backfill_partition",
        sa.Column("backfill_id", sa.String(length=32), nullable=False),
        sa.Column("partition", sa.String(length=32), nullable=False),
        sa.Column("encounters", sa.Integer(), nullable=False),
        sa.Column("charts", sa.Integer(), nullable=False),
        sa.Column("open_item_days", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("backfill_id", "partition", name=op.f("pk_backfill_partition")),
    )
    op.create_table(
        "backfill_figure",
        sa.Column("backfill_id", sa.String(length=32), nullable=False),
        sa.Column("partition", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "backfill_id",
            "partition",
            "metric",
            "dimension",
            "key",
            name=op.f("pk_backfill_figure"),
        ),
    )


def downgrade() -> None:
    op.drop_table("backfill_figure")
    op.drop_table("backfill_partition")
    op.drop_index("ix_backfill_encounter_start_day", table_name="backfill_encounter")
    op.drop_table("backfill_encounter")

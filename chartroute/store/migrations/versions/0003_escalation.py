"""escalation state, escalation audit trail and database leases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 08:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalation_state",
        sa.Column("work_item_id", sa.String(length=32), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("open_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("clock_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=True),
        sa.Column("tier_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("delinquent", sa.Boolean(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_step", sa.String(length=64), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("work_item_id", name=op.f("pk_escalation_state")),
    )
    with op.batch_alter_table("escalation_state", schema=None) as batch_op:
        batch_op.create_index("ix_escalation_state_next_at", ["next_at"], unique=False)

    op.create_table(
        "escalation_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("work_item_id", sa.String(length=32), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=64), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_event")),
    )
    with op.batch_alter_table("escalation_event", schema=None) as batch_op:
        batch_op.create_index("ix_escalation_event_at", ["at"], unique=False)
        batch_op.create_index(
            "uq_escalation_event_work_item_step", ["work_item_id", "step"], unique=True
        )

    op.create_table(
        "lease",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lease")),
    )


def downgrade() -> None:
    op.drop_table("lease")
    with op.batch_alter_table("escalation_event", schema=None) as batch_op:
        batch_op.drop_index("uq_escalation_event_work_item_step")
        batch_op.drop_index("ix_escalation_event_at")
    op.drop_table("escalation_event")
    with op.batch_alter_table("escalation_state", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_state_next_at")
    op.drop_table("escalation_state")

"""routing reasons: why each work item sits with its holder, and why it moved

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:30:00.000000

``work_item.routing_reason`` holds the rule that placed an item (clinician, pod, least-loaded,
overflow, cover, over capacity); ``work_item_event.reason`` the rule of an opening or a
reassignment; ``work_item.waiting`` whether the item still waits on the outside world, so the
worklist ranks work that can be done now first. Rows stored before have no reason: they read
as "not recorded", never a guess.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("routing_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("waiting", sa.Boolean(), nullable=True))
    with op.batch_alter_table("work_item_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_item_event", schema=None) as batch_op:
        batch_op.drop_column("reason")
    with op.batch_alter_table("work_item", schema=None) as batch_op:
        batch_op.drop_column("waiting")
        batch_op.drop_column("routing_reason")

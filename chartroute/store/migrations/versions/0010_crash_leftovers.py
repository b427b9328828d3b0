"""crash leftovers: who runs each sync and who holds each outbox claim

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:50:00.000000

A process killed with ``kill -9`` leaves a sync run ``running`` and an outbox message
``sending`` until a lease expires. Recording the process (``host:pid``, plus the flow run of a
leased sync) lets the next run on the same host see at once that its owner is gone
(``store/runs.close_crashed_runs``, ``notify/outbox_claims.claim_next``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder", sa.String(length=200), nullable=True))
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_column("holder")

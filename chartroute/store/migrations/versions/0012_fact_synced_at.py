"""fact.synced_at index: a sync's orphan count reads only the links its own run wrote

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:00:00.000000

The orphan count of a run asks for the links of the facts stored since the run began. Without
an index on ``synced_at`` that question read every link of the store: 0.27 s of a sync that
stored 5,767 records into a store of 514k, against 0.014 s with it.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_fact_synced_at", "fact", ["synced_at"])


def downgrade() -> None:
    op.drop_index("ix_fact_synced_at", table_name="fact")

"""identifiers: an index from business identifiers to the resources that carry them

Revision ID: 0008
Revises: 0007_go_live
Create Date: 2026-12-06 09:45:00.000000

References by identifier (``Practitioner?identifier=…|NPI``) resolve through it. A store
synced before it existed has no rows: facts written before carried no identifiers, and the
next sync that re-reads a resource with identifiers fills them in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007_go_live"  # the 0007 migration's revision id
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fact_identifier",
        sa.Column("identifier_key", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("identifier_key", "key", name=op.f("pk_fact_identifier")),
    )
    op.create_index("ix_fact_identifier_key", "fact_identifier", ["key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_fact_identifier_key", table_name="fact_identifier")
    op.drop_table("fact_identifier")
